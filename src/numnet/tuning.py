"""Random hyperparameter search (Bergstra & Bengio: random beats grid).

Describe a search space with distributions, give a function that builds (and
optionally trains) a model for one configuration, and :class:`RandomSearch`
tries ``n_trials`` random configurations, records every result and returns them
sorted by score, printable as a Markdown table.

Scales such as the learning rate are sampled on a log scale, as the course notes
teach: ``r = uniform(log10 low, log10 high)``, ``value = 10**r`` — so 1e-4..1e-3
gets as many trials as 1e-2..1e-1.

Bad trials can be stopped early with the median stopping rule: after
``min_epochs`` epochs, a trial whose best score so far is worse than the median
of the earlier trials at the same epoch is abandoned.

Example:
    >>> space = {"lr": LogUniform(1e-4, 1e-1), "layers": IntUniform(1, 3)}
    >>> search = RandomSearch(space, n_trials=4, seed=0, objective="score")
    >>> result = search.search(lambda cfg: -abs(cfg["lr"] - 0.01) - cfg["layers"])
    >>> result.best_config["layers"], len(result.trials)
    (1, 4)
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from numnet import backend
from numnet._tuning_space import (
    Choice,
    Distribution,
    IntUniform,
    LogUniform,
    Uniform,
    sample_configs,
)


@dataclass
class Trial:
    """One configuration and what happened to it."""

    number: int
    config: dict
    score: float = math.nan
    curve: list = field(default_factory=list)  # objective after each epoch
    status: str = "running"  # complete | pruned | failed
    seconds: float = 0.0
    error: str = ""


class _Pruner:
    """The median stopping rule over the curves of earlier trials."""

    def __init__(self, maximize: bool, min_epochs: int, trials: list[Trial]):
        self.maximize, self.min_epochs, self.trials = maximize, min_epochs, trials

    def best(self, values) -> float:
        return max(values) if self.maximize else min(values)

    def should_stop(self, curve: list[float]) -> bool:
        epoch = len(curve)
        peers = [
            self.best(t.curve[:epoch]) for t in self.trials if len(t.curve) >= epoch
        ]
        if epoch < self.min_epochs or len(peers) < 2:
            return False
        median, mine = float(np.median(peers)), self.best(curve)
        return mine < median if self.maximize else mine > median


class TrialReporter:
    """Handed to a ``build_and_train(config, reporter)`` function.

    Call :meth:`report` after every epoch (it returns True when the trial should
    stop), or pass :meth:`callback` to ``model.fit(callbacks=[...])``.
    """

    def __init__(self, trial, objective, pruner, max_epochs: int | None = None):
        self.trial, self.objective, self.pruner = trial, objective, pruner
        self.max_epochs = max_epochs  # the last epoch is never "pruned"
        self.pruned = False

    def report(self, value: float) -> bool:
        """Record the objective after one more epoch; True means "stop now"."""
        self.trial.curve.append(float(value))
        last = self.max_epochs is not None and len(self.trial.curve) >= self.max_epochs
        if self.pruner is not None and not last:
            self.pruned = self.pruner.should_stop(self.trial.curve)
        return self.pruned

    def callback(self):
        """A numnet Callback reporting ``logs[objective]`` at each epoch end."""
        from numnet.callbacks import Callback

        reporter = self

        class _Report(Callback):
            def on_epoch_end(self, epoch, logs=None):
                if reporter.objective not in (logs or {}):
                    raise KeyError(
                        f"RandomSearch: objective {reporter.objective!r} is not in "
                        f"the epoch logs {sorted(logs or {})}. Pass validation_data "
                        "or choose another objective."
                    )
                if reporter.report(logs[reporter.objective]):
                    self.model.stop_training = True

        return _Report()


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


class SearchResult:
    """The trials of a search, best first (failed or diverged trials last).

    Attributes:
        trials: the :class:`Trial` list, sorted by score.
        objective: the name of the score.
    """

    def __init__(self, trials: list[Trial], objective: str, maximize: bool):
        self.objective, self.maximize = objective, maximize
        sign = -1.0 if maximize else 1.0
        self.trials = sorted(
            trials, key=lambda t: (math.isnan(t.score), sign * np.nan_to_num(t.score))
        )

    @property
    def best_trial(self) -> Trial:
        """The trial with the best score."""
        return self.trials[0]

    @property
    def best_config(self) -> dict:
        """The configuration of the best trial."""
        return dict(self.best_trial.config)

    @property
    def best_score(self) -> float:
        """The best score."""
        return self.best_trial.score

    def rows(self) -> list[dict]:
        """One dict per trial (best first): rank, trial, the config, score..."""
        return [
            {
                "rank": rank,
                "trial": t.number,
                **t.config,
                self.objective: t.score,
                "epochs run": len(t.curve),
                "status": t.status,
                "time (s)": t.seconds,
            }
            for rank, t in enumerate(self.trials, 1)
        ]

    def to_markdown(self, precision: int = 4) -> str:
        """The sorted table as Markdown (also what ``print(result)`` shows)."""
        rows = self.rows()
        header = list(rows[0]) if rows else ["rank", "trial", self.objective]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in rows:
            cells = []
            for key, value in row.items():
                if key == self.objective:
                    cells.append(f"{value:.{precision}f}")
                elif key == "time (s)":
                    cells.append(f"{value:.1f}")
                else:
                    cells.append(_format(value))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    __str__ = to_markdown

    def __repr__(self) -> str:
        return (
            f"SearchResult(trials={len(self.trials)}, {self.objective}="
            f"{self.best_score:.4g}, best_config={self.best_config})"
        )


def _accepts_reporter(fn: Callable) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


class RandomSearch:
    """Random search over a hyperparameter space.

    Args:
        space: ``{name: Distribution or fixed value}``, e.g.
            ``{"learning_rate": LogUniform(1e-4, 1e-1), "batch_size":
            Choice([32, 64, 128]), "dropout": Uniform(0.0, 0.5)}``.
        n_trials: how many configurations to try.
        objective: the metric to optimize (a key of the ``fit`` logs, e.g.
            ``"val_accuracy"``, or of a returned dict).
        direction: ``"max"`` or ``"min"``; default ``"min"`` if the objective
            contains ``"loss"`` or ``"error"``, else ``"max"``.
        seed: int for reproducible configurations (training randomness is the
            model's business: seed it in your function).
        prune: stop bad trials early with the median stopping rule.
        min_epochs: epochs a trial always gets before it may be pruned.
    """

    def __init__(
        self,
        space: Mapping,
        n_trials: int = 10,
        objective: str = "val_accuracy",
        direction: str | None = None,
        seed=None,
        prune: bool = False,
        min_epochs: int = 1,
    ):
        if not isinstance(space, Mapping) or not space:
            raise ValueError(
                "RandomSearch: invalid value for argument 'space'. Expected a "
                f"non-empty dict of name -> distribution. Received: {space!r}"
            )
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
            raise ValueError(
                "RandomSearch: invalid value for argument 'n_trials'. Expected a "
                f"positive int. Received: n_trials={n_trials!r}"
            )
        if direction is None:
            direction = (
                "min" if ("loss" in objective or "error" in objective) else "max"
            )
        if direction not in ("max", "min"):
            raise ValueError(
                "RandomSearch: invalid value for argument 'direction'. Expected "
                f"'max' or 'min'. Received: direction={direction!r}"
            )
        self.space, self.n_trials, self.objective = dict(space), n_trials, objective
        self.maximize = direction == "max"
        self.seed, self.prune, self.min_epochs = seed, prune, min_epochs

    def search(
        self,
        fn: Callable,
        x=None,
        y=None,
        epochs: int = 1,
        validation_data=None,
        verbose: int = 0,
        **fit_kwargs,
    ) -> SearchResult:
        """Run the trials and return the :class:`SearchResult`.

        Two ways to use it:

        * ``search(build_and_train)`` with ``build_and_train(config)`` (or
          ``(config, reporter)`` to report per-epoch scores for pruning)
          returning a number, a dict of metrics, or the ``History`` of ``fit``;
        * ``search(model_fn, x, y, epochs=..., validation_data=...)`` with
          ``model_fn(config)`` returning a *compiled* model: the search calls
          ``fit`` itself (with ``config["batch_size"]`` if the space has one).

        A ``History`` or a dict of per-epoch lists is scored by its best epoch.

        Args:
            fn: ``build_and_train`` or ``model_fn`` as above.
            x, y: training data for the ``model_fn`` form (``y`` may be None for
                a DataLoader).
            epochs: epochs per trial in the ``model_fn`` form (a short budget).
            validation_data: passed to ``fit``; needed for ``val_*`` objectives.
            verbose: 1 prints one line per trial.
            **fit_kwargs: more ``fit`` arguments (``callbacks`` are kept).
        """
        trials: list[Trial] = []
        pruner = _Pruner(self.maximize, self.min_epochs, trials) if self.prune else None
        configs = sample_configs(self.space, self.n_trials, self.seed)
        for number, config in enumerate(configs):
            trial = Trial(number, config)
            budget = epochs if x is not None else None
            reporter = TrialReporter(trial, self.objective, pruner, budget)
            start = time.perf_counter()
            try:
                if x is not None:
                    outcome = self._fit(
                        fn, config, reporter, x, y, epochs, validation_data, fit_kwargs
                    )
                elif _accepts_reporter(fn):
                    outcome = fn(config, reporter)
                else:
                    outcome = fn(config)
                trial.score = self._score(outcome, trial)
                diverged = not math.isfinite(trial.score)
                trial.status = (
                    "diverged"
                    if diverged
                    else "pruned"
                    if reporter.pruned
                    else "complete"
                )
            except ArithmeticError as exc:  # overflow / floating point errors
                trial.status, trial.error = "failed", f"{type(exc).__name__}: {exc}"
            trial.seconds = time.perf_counter() - start
            trials.append(trial)
            if verbose:
                print(
                    f"trial {number + 1}/{self.n_trials} {_short(config)} -> "
                    f"{self.objective}={trial.score:.4f} [{trial.status}, "
                    f"{trial.seconds:.1f} s]",
                    flush=True,
                )
        return SearchResult(trials, self.objective, self.maximize)

    def _fit(self, model_fn, config, reporter, x, y, epochs, validation_data, kwargs):
        model = model_fn(config)
        kwargs = dict(kwargs)
        if "batch_size" in config and backend.is_array(x):
            kwargs.setdefault("batch_size", config["batch_size"])
        kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [
            reporter.callback()
        ]
        kwargs.setdefault("verbose", 0)
        return model.fit(x, y, epochs=epochs, validation_data=validation_data, **kwargs)

    def _score(self, outcome, trial: Trial) -> float:
        logs = getattr(outcome, "history", outcome)
        if isinstance(logs, Mapping):
            if self.objective not in logs:
                raise KeyError(
                    f"RandomSearch: objective {self.objective!r} not in the trial's "
                    f"results {sorted(logs)}."
                )
            logs = logs[self.objective]
        if logs is None and trial.curve:
            logs = trial.curve
        values = np.atleast_1d(np.asarray(logs, dtype=np.float64))
        if values.size == 0 or values.ndim != 1:
            raise TypeError(
                "RandomSearch: the trial function must return a number, a dict of "
                f"metrics or a History. Received: {type(outcome).__name__}"
            )
        if not trial.curve and values.size > 1:
            trial.curve = [float(v) for v in values]
        if not trial.curve:
            trial.curve = [float(values[-1])]
        if np.isnan(values).all():
            return math.nan
        return float(np.nanmax(values) if self.maximize else np.nanmin(values))


def _short(config: dict) -> str:
    return "{" + ", ".join(f"{k}={_format(v)}" for k, v in config.items()) + "}"


__all__ = [
    "Choice",
    "Distribution",
    "IntUniform",
    "LogUniform",
    "RandomSearch",
    "SearchResult",
    "Trial",
    "TrialReporter",
    "Uniform",
    "sample_configs",
]
