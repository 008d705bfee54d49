"""The file of ``callbacks.BackupAndRestore``: weights, optimizer state, epoch.

One ``.npz`` in numnet's save format (a ``"weights"`` file that also holds the
optimizer entries of a full save and the epoch to resume from), written
atomically by :mod:`numnet.saving`.
"""

from __future__ import annotations

from numnet import saving


def write(model, path: str, next_epoch: int) -> None:
    """Back up ``model`` (built) and its optimizer; ``next_epoch`` resumes."""
    meta, arrays = saving._weights_meta(model)
    meta = {**saving._base_meta(model, "weights"), **meta, "resume_epoch": next_epoch}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        state = optimizer.get_state(model.trainable_weights)
        arrays.update({f"optimizer/{k}": v for k, v in state.items()})
    saving._write_npz(path, meta, arrays)


def restore(model, path: str) -> int:
    """Load a backup into ``model`` and its optimizer; return the epoch to resume."""
    saving.load_weights(model, path)
    optimizer = getattr(model, "optimizer", None)
    names = optimizer.state_slot_names if optimizer is not None else ()
    meta, arrays = saving.read_file(path, names)
    state = {
        k[len("optimizer/") :]: v
        for k, v in arrays.items()
        if k.startswith("optimizer/")
    }
    if optimizer is not None and state:
        optimizer.set_state(state, model.trainable_weights)
    epoch = meta.get("resume_epoch")
    if not isinstance(epoch, int) or epoch < 0:
        raise saving.SaveFormatError(
            f"{path}: not a BackupAndRestore file (no resume epoch recorded)"
        )
    return epoch
