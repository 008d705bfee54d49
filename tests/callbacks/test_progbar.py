"""Progress display: TTY redraws, no carriage returns in files, verbose 2."""

from __future__ import annotations

import io

from numnet.callbacks import CallbackList, Progbar, ProgbarLogger
from numnet.callbacks.progbar import format_per_step, format_time, format_value


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_formats():
    assert format_time(7.4) == "7s" and format_time(125) == "2:05"
    assert format_time(3723) == "1:02:03"
    assert format_per_step(0.025) == "25ms/step" and format_per_step(2) == "2s/step"
    assert format_per_step(0.00083) == "830us/step"
    assert format_value(0.51234) == "0.5123" and format_value(1e-5) == "1.0000e-05"


def test_tty_redraws_in_place_and_ends_with_newline():
    stream = FakeTTY()
    bar = Progbar(10, stream=stream, interval=0.0)
    for i in range(1, 10):
        bar.update(i, {"loss": 1.0 / i})
    bar.update(10, {"loss": 0.1})
    text = stream.getvalue()
    assert text.count("\r") == 10 and text.endswith("\n") and text.count("\n") == 1
    assert " 5/10 [===============>..............] - ETA:" in text
    assert "10/10 [==============================] - 0s" in text
    assert text.rstrip().endswith("loss: 0.1000")


def test_tty_updates_are_throttled():
    stream = FakeTTY()
    bar = Progbar(1000, stream=stream, interval=60.0)
    for i in range(1, 1000):
        bar.update(i, {"loss": 0.5})
    bar.update(1000, {"loss": 0.5})
    assert stream.getvalue().count("\r") <= 2


def test_file_gets_no_carriage_returns_one_line_per_epoch():
    stream = io.StringIO()
    logger = ProgbarLogger(stream=stream)
    cbs = CallbackList([logger], epochs=2, steps=50, verbose=1)
    cbs.on_train_begin()
    for epoch in range(2):
        cbs.on_epoch_begin(epoch)
        for batch in range(50):
            cbs.on_train_batch_end(batch, {"loss": 0.5, "accuracy": 0.9})
        cbs.on_epoch_end(epoch, {"loss": 0.5, "accuracy": 0.9, "val_loss": 0.6})
    cbs.on_train_end()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert lines[1].startswith("50/50 [======") and "val_loss: 0.6000" in lines[1]


def test_verbose_2_one_summary_line_per_epoch():
    stream = FakeTTY()  # even on a terminal: no bar, no \r
    logger = ProgbarLogger(stream=stream)
    cbs = CallbackList([logger], epochs=1, steps=3, verbose=2)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for batch in range(3):
        cbs.on_train_batch_end(batch, {"loss": 0.25})
    cbs.on_epoch_end(0, {"loss": 0.25})
    text = stream.getvalue()
    assert "\r" not in text and "[" not in text
    assert text.splitlines()[1].startswith("3/3 - 0s - ")
    assert text.rstrip().endswith("loss: 0.2500")


def test_unknown_target_and_validation_inside_fit_is_silent():
    stream = io.StringIO()
    logger = ProgbarLogger(stream=stream)
    cbs = CallbackList([logger], epochs=1, steps=None, verbose=1)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 1.0})
    cbs.on_test_begin()  # validation inside fit: no bar of its own
    cbs.on_test_batch_end(0, {"loss": 1.0})
    cbs.on_test_end({"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.0})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("1/Unknown - 0s")


def test_standalone_evaluate_bar():
    stream = io.StringIO()
    cbs = CallbackList([ProgbarLogger(stream=stream)], steps=4, verbose=1)
    cbs.on_test_begin()
    for batch in range(4):
        cbs.on_test_batch_end(batch, {"loss": 0.5})
    cbs.on_test_end({"loss": 0.5})
    assert stream.getvalue().startswith("4/4 [====")


METRICS = {
    "loss": 0.51234,
    "accuracy": 0.8123,
    "val_loss": 0.6012,
    "val_accuracy": 0.7891,
    "top_5_categorical_accuracy": 0.9912,
}


def _redraws(text: str) -> list[str]:
    return [seg.rstrip("\n") for seg in text.split("\r") if seg]


def test_tty_lines_fit_an_80_column_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    stream = FakeTTY()
    bar = Progbar(1875, stream=stream, interval=0.0)
    for i in (1, 900, 1874):
        bar.update(i, METRICS)
    bar.update(1875, METRICS)
    lines = _redraws(stream.getvalue())
    assert len(lines) == 4
    assert all(len(line) <= 79 for line in lines), [len(x) for x in lines]
    assert all("loss: 0.5123" in line for line in lines)  # the loss is kept
    assert "top_5_categorical_accuracy" not in lines[-1]  # dropped from the end


def test_bar_shortens_before_metrics_are_dropped():
    stream = FakeTTY()
    bar = Progbar(100, stream=stream, interval=0.0, max_width=70)
    bar.update(50, {"loss": 0.5, "accuracy": 0.75})
    line = _redraws(stream.getvalue())[0]
    assert len(line) <= 70 and "accuracy: 0.7500" in line
    assert "[" in line and len(line.split("[")[1].split("]")[0]) < 30  # shorter bar


def test_wide_terminal_keeps_the_full_line():
    stream = FakeTTY()
    bar = Progbar(100, stream=stream, interval=0.0, max_width=300)
    bar.update(100, METRICS)
    line = _redraws(stream.getvalue())[0]
    assert "top_5_categorical_accuracy: 0.9912" in line and "=" * 30 in line


def test_files_are_not_cut_to_the_terminal_width():
    stream = io.StringIO()
    bar = Progbar(10, stream=stream, max_width=40)
    bar.update(10, METRICS)
    assert "top_5_categorical_accuracy" in stream.getvalue()  # logs keep everything


def test_progbar_logger_passes_the_width():
    stream = FakeTTY()
    logger = ProgbarLogger(stream=stream, max_width=60)
    cbs = CallbackList([logger], epochs=1, steps=3, verbose=1)
    cbs.on_epoch_begin(0)
    for b in range(3):
        cbs.on_train_batch_end(b, METRICS)
    cbs.on_epoch_end(0, METRICS)
    lines = [x for x in _redraws(stream.getvalue()) if not x.startswith("Epoch")]
    assert lines and all(len(line) <= 60 for line in lines)
