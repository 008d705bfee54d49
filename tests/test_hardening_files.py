"""Hardening of saves and checkpoints: no lost checkpoint, modes, links, temporaries."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import numnet
from numnet import callbacks, layers, models, saving


def small_model(seed=0):
    numnet.manual_seed(seed)
    model = models.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])
    model.compile("sgd", "mse")
    return model


def problem(rng, n=32):
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, rng.normal(size=(n, 2)).astype(np.float32)


def test_checkpoint_never_replaces_a_finite_model_with_nan_weights(rng, tmp_path):
    """Item 1: TerminateOnNaN + ModelCheckpoint(save_best_only=False)."""
    x, y = problem(rng)
    model = small_model()
    path = tmp_path / "ckpt.npz"

    def poison(epoch, logs=None):
        if epoch == 1:
            model.layers[0].kernel.data[...] = np.nan

    cbs = [
        callbacks.LambdaCallback(on_epoch_begin=poison),
        callbacks.TerminateOnNaN(),
        callbacks.ModelCheckpoint(path),
    ]
    with pytest.warns(RuntimeWarning, match="NaN or inf.*not saved"):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=cbs)
    saved = models.load_model(path)
    assert all(np.isfinite(w).all() for w in saved.get_weights())
    assert not np.isfinite(model.get_weights()[0]).all()


def test_checkpoint_best_only_skips_nan_weights_too(rng, tmp_path):
    x, y = problem(rng)
    model = small_model()
    cb = callbacks.ModelCheckpoint(
        tmp_path / "b.npz", monitor="loss", save_best_only=True
    )
    cb.set_model(model) if hasattr(cb, "set_model") else setattr(cb, "model", model)
    model.layers[1].bias.data[...] = np.inf
    with pytest.warns(RuntimeWarning, match="not saved"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert not (tmp_path / "b.npz").exists() and cb.best is None


@pytest.mark.parametrize("umask, expected", [(0o077, 0o600), (0o022, 0o644)])
def test_new_files_respect_the_umask(tmp_path, umask, expected):
    """Item 2."""
    old = os.umask(umask)
    try:
        small_model().save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "m.npz").st_mode & 0o777 == expected


def test_resaving_keeps_an_existing_files_mode(tmp_path):
    path = tmp_path / "m.npz"
    model = small_model()
    model.save(path)
    os.chmod(path, 0o600)
    model.save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_saving_through_a_symlink_updates_the_target(tmp_path):
    """Item 3: the link stays a link and its target gets the new content."""
    target = tmp_path / "real" / "m.npz"
    target.parent.mkdir()
    link = tmp_path / "link.npz"
    small_model(0).save(target)
    os.symlink(target, link)
    model = small_model(1)
    model.save(link)
    assert os.path.islink(link)
    loaded = models.load_model(target)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert sorted(os.listdir(tmp_path / "real")) == ["m.npz"]


def test_a_hard_linked_destination_warns_and_keeps_the_other_name(tmp_path):
    path, other = tmp_path / "m.npz", tmp_path / "other.npz"
    small_model(0).save(path)
    os.link(path, other)
    before = other.read_bytes()
    with pytest.warns(RuntimeWarning, match="other hard links"):
        small_model(1).save(path)
    assert other.read_bytes() == before  # the previous content, intact
    assert path.read_bytes() != before


def test_a_symlink_loop_is_a_clear_error(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    os.symlink(b, a)
    os.symlink(a, b)
    with pytest.raises(OSError, match="symlink"):
        small_model().save(a)
    with pytest.raises(saving.SaveFormatError, match="a.npz"):
        models.load_model(a)


def test_stale_temporaries_of_the_same_target_are_cleaned(tmp_path):
    """Item 4: a killed save's temporary file is removed by the next save."""
    dead_pid = 2**22 + 12345  # above Linux's pid_max: never a live process
    stale = tmp_path / f".m.npz.{dead_pid}-deadbeef{saving.TMP_SUFFIX}"
    stale.write_bytes(b"half a file")
    other = tmp_path / f".other.npz.{dead_pid}-deadbeef{saving.TMP_SUFFIX}"
    other.write_bytes(b"another target's")
    live = tmp_path / f".m.npz.{os.getppid()}-cafe{saving.TMP_SUFFIX}"
    live.write_bytes(b"a save in progress elsewhere")
    small_model().save(tmp_path / "m.npz")
    assert not stale.exists() and other.exists() and live.exists()


def test_a_killed_save_leaves_a_recognisable_temporary(tmp_path):
    """A save killed with SIGKILL mid-write: the old file is intact."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "m.npz"
    small_model().save(path)
    before = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import os, signal
        from numnet import saving
        def write(f):
            f.write(b"partial")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        saving.atomic_write({str(path)!r}, write)
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.path.dirname(os.path.dirname(numnet.__file__)),
    }
    proc = subprocess.run([sys.executable, "-c", script], env=env, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(saving.TMP_SUFFIX)]
    assert len(leftovers) == 1 and leftovers[0].startswith(".m.npz.")
    small_model().save(path)
    assert not [n for n in os.listdir(tmp_path) if n.endswith(saving.TMP_SUFFIX)]


def test_ctrl_c_during_validation_stops_at_the_batch_and_skips_the_checkpoint(
    rng, tmp_path
):
    """Item 17."""
    x, y = problem(rng, n=64)
    model = small_model()
    seen = []

    def interrupt(batch, logs=None):
        seen.append(batch)
        if batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    ckpt = callbacks.ModelCheckpoint(tmp_path / "ep{epoch}.npz")
    with pytest.warns(RuntimeWarning, match="interrupted"):
        history = model.fit(
            x,
            y,
            epochs=3,
            batch_size=8,
            validation_data=(x, y),
            verbose=0,
            callbacks=[callbacks.LambdaCallback(on_test_batch_end=interrupt), ckpt],
        )
    assert seen == [0, 1]  # 8 validation batches, stopped after the second
    assert history.epoch == [0]
    assert os.listdir(tmp_path) == []
