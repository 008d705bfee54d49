"""The command line every example shares: its docstring as ``--help``, with defaults."""

from __future__ import annotations

import argparse


class _Formatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Keep the docstring's line breaks and show every option's default."""

    def _format_action(self, action):
        if (
            action.help is None
            and action.option_strings
            and (action.default is not argparse.SUPPRESS)
        ):
            action.help = "(default: %(default)s)"  # argparse skips empty help
        return super()._format_action(action)


def make_parser(doc: str, **kwargs) -> argparse.ArgumentParser:
    """An ArgumentParser whose ``--help`` is the example's docstring plus defaults."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=_Formatter, **kwargs
    )


def add_device_flag(parser: argparse.ArgumentParser) -> None:
    """``--device``: where the model trains ('cpu', 'cuda', 'cuda:1'; CUDA needs
    CuPy: ``pip install "numnet[gpu]"``). fit moves every batch there."""
    parser.add_argument(
        "--device", default="cpu", help="train on 'cpu' or 'cuda' (needs CuPy)"
    )
