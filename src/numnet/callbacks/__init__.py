"""Callbacks: hooks into ``fit``/``evaluate``/``predict`` (Keras names).

Example:
    >>> from numnet import callbacks
    >>> stop = callbacks.EarlyStopping(monitor="val_loss", patience=3,
    ...                                restore_best_weights=True)
    >>> stop.mode
    'min'
"""

from numnet.callbacks.base import Callback, CallbackList, History
from numnet.callbacks.misc import (
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    TerminateOnNaN,
)
from numnet.callbacks.monitors import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from numnet.callbacks.progbar import Progbar, ProgbarLogger
from numnet.callbacks.tensorboard import TensorBoard
from numnet.callbacks.training_state import BackupAndRestore, SwapEMAWeights

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "Progbar",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
