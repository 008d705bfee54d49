"""Summaries, configs, saving and loading of a :class:`numnet.models.Model`.

A mixin of ``Model`` (``models/model.py`` holds compile/fit/evaluate/predict):
``summary``, ``layer_outputs``, ``from_config``/``get_compile_config``,
``save``/``save_weights``/``load_weights`` (through ``numnet.saving``; in an
MPI job only rank 0 writes) and ``to_json``.
"""

from __future__ import annotations

import numpy as np

from numnet import _comm
from numnet import optimizers as optimizers_module
from numnet.models import cloning
from numnet.models.summary import layer_outputs, summary_text


class ModelPersistence:
    """What a model says about itself and how it is stored (see :class:`Model`)."""

    def summary(self, line_length: int | None = None, print_fn=None) -> None:
        """Print the Keras table: layer, output shape, params (returns None).

        An unbuilt model prints its layers with unknown shapes and a note on
        how to build it, as Keras does.

        Args:
            line_length: total width of the table.
            print_fn: called with the text instead of ``print`` (e.g. a
                logger's ``info``); :meth:`summary_string` returns it.
        """
        (print_fn or print)(self.summary_string(line_length))

    def summary_string(self, line_length: int | None = None) -> str:
        """The text :meth:`summary` prints."""
        return summary_text(self, line_length or 65)

    def layer_outputs(self, x) -> list[tuple[str, np.ndarray]]:
        """``[(layer name, activation)]`` of every layer for the batch ``x``.

        Runs in inference mode under ``no_grad()``; for visualising feature
        maps and activations.
        """
        return layer_outputs(self, x)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """Create a model from :meth:`get_config` output.

        ``Model.from_config`` accepts a functional model's config (layers and
        nodes) and rebuilds the graph; a subclass's config goes to its
        constructor. ``custom_objects`` maps class names to your own classes.
        """
        if isinstance(config, dict) and "nodes" in config and "layers" in config:
            from numnet.models.functional import Functional

            target = cls if issubclass(cls, Functional) else Functional
            return Functional.from_config.__func__(target, config, custom_objects)
        return cls(**config)

    def get_compile_config(self) -> dict | None:
        """The compile arguments as JSON data (None before compile)."""
        if self.compiled is None:
            return None
        return {
            "optimizer": optimizers_module.serialize(self.optimizer),
            **self.compiled.get_config(),
        }

    def save(self, filepath, include_optimizer: bool = True) -> None:
        """Save architecture, weights (and optimizer state) to one ``.npz``.

        See :func:`numnet.saving.save_model`. In an MPI job only rank 0
        writes (the other ranks return at once).
        """
        from numnet import saving

        if not _comm.is_main():  # distributed: only rank 0 writes files
            return
        saving.save_model(self, filepath, include_optimizer=include_optimizer)

    def save_weights(self, filepath) -> None:
        """Save only the weights to a ``.npz`` (atomic write; rank 0 only in MPI)."""
        from numnet import saving

        if not _comm.is_main():  # distributed: only rank 0 writes files
            return
        saving.save_weights(self, filepath)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False) -> None:
        """Load weights saved by :meth:`save_weights` or :meth:`save`.

        Args:
            filepath: the ``.npz`` file (or an open binary file).
            skip_mismatch: skip (with a warning) weights whose shape differs or
                that the file lacks, instead of raising.
            by_name: match weights by name (``layer/weight``) rather than by
                order, e.g. to load a backbone into a model with a new head.
        """
        from numnet import saving

        if skip_mismatch or by_name:
            if not self.built:
                raise ValueError(
                    f"{self.name}.load_weights: build the model before a partial "
                    f"load (skip_mismatch/by_name)"
                )
            cloning.load_weights_partial(self, filepath, skip_mismatch, by_name)
            return
        saving.load_weights(self, filepath)

    def to_json(self, **kwargs) -> str:
        """The architecture (no weights) as a JSON string; see
        :func:`numnet.models.model_from_json`."""
        return cloning.to_json(self, **kwargs)
