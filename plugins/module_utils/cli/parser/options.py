"""What the command groups share: the parser class, the group and command
factories (every command gets its description, example and --json) and the
options several commands take."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from ...display_text import escape_text
from ...revocation import REASON_NAMES
from ..examples import EXAMPLES

if TYPE_CHECKING:
    from collections.abc import Sequence

    Subparsers = argparse._SubParsersAction["Parser"]


class Parser(argparse.ArgumentParser):
    """argparse, with the argument text it quotes in errors escaped (its command groups and
    commands are made of the same class)."""

    def error(self, message: str) -> NoReturn:
        super().error(escape_text(message))


def vars_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--var", action="append", default=[], metavar="K=V",
                        help="profile variable (repeatable; lists comma-separated)")
    parser.add_argument("--var-file", metavar="FILE", help="YAML mapping of profile variables")


def hsm_key(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument("--hsm-config", metavar="FILE", required=required,
                        help="HSM YAML configuration (PIN from its pin_env variable)")
    parser.add_argument("--key-label", metavar="LABEL", help="CKA_LABEL of the key in the token")
    parser.add_argument("--key-id", metavar="HEX", help="CKA_ID of the key in the token (hex)")


class DeprecatedSpelling(argparse.Action):
    """A former option name: still works, with a note on standard error."""

    def __init__(self, option_strings: Sequence[str], dest: str, instead: str, **kwargs: Any) -> None:
        self.instead = instead
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        sys.stderr.write(f"qpki: note: {option_string} is deprecated here and goes in the next "
                         f"release; use {self.instead}\n")
        setattr(namespace, self.dest, values)


def passphrase(parser: argparse.ArgumentParser, option: str, what: str,
               old: str | None = "--passphrase-env", dest: str | None = None) -> None:
    """``--<thing>-passphrase-env VAR``, named for the key it protects (the same
    name in every command); ``old``: the former spelling, a deprecated alias."""
    dest = dest or option[2:].replace("-", "_")
    parser.add_argument(option, metavar="VAR", dest=dest,
                        help="environment variable holding the passphrase of %s" % what)
    if old:
        parser.add_argument(old, metavar="VAR", dest=dest, action=DeprecatedSpelling,
                            instead=option, help=f"deprecated spelling of {option}")


def ca_passphrase(parser: argparse.ArgumentParser, what: str = "the CA's key file",
                  old: str | None = "--passphrase-env") -> None:
    passphrase(parser, "--ca-passphrase-env", what, old)


def key_passphrase(parser: argparse.ArgumentParser, what: str = "the key file",
                   old: str | None = "--passphrase-env") -> None:
    passphrase(parser, "--key-passphrase-env", what, old)


def strict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true",
                        help="refuse non-standard forms read from other tools (QPKI's "
                             "pre-draft-13 composite, its catalyst CSR attributes, BER "
                             "requests) even when they verify: exit 1")


def revocation_reason(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", default="unspecified", metavar="REASON",
                        help=f"RFC 5280 reason, any case: {', '.join(REASON_NAMES)} "
                             "(removeFromCRL is refused: delta CRLs only)")
    parser.add_argument("--invalidity-date", metavar="TIME",
                        help="when the key was known or suspected compromised (ISO 8601; "
                             "keyCompromise and cACompromise)")


def ca_dir(parser: argparse.ArgumentParser, text: str = "the CA directory") -> None:
    """--ca-dir, with --dir as its alias: the same in every command."""
    parser.add_argument("--ca-dir", "--dir", dest="ca_dir", required=True, metavar="DIR",
                        help=text)


def cred_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cred-dir", required=True, help="directory holding the credentials")


def parent(parser: argparse.ArgumentParser, text: str, required: bool = False) -> None:
    parser.add_argument("--parent", metavar="DIR", required=required, help=text)
    parser.add_argument("--parent-passphrase-env", metavar="VAR",
                        help="environment variable holding the parent CA key passphrase")


def unencrypted_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unencrypted-key", action="store_true",
                        help="write a software CA key without a passphrase on purpose (a demo, a "
                             "test): no warning. Without it, such a key file is named in a warning")


def generate_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generate-key", action="store_true",
                        help="generate the key in the HSM instead of using an existing one")


class AlgorithmChoices:
    """The algorithm names by family, read from the registry only when a help
    text is formatted (``qpki --help`` and parsing import no cryptography)."""

    def __init__(self, signing_only: bool = False) -> None:
        self.signing_only = signing_only

    def __str__(self) -> str:
        from ...algorithms.registry import algorithms_by_family, hsm_algorithm_names

        in_hsm = set(hsm_algorithm_names())
        families = algorithms_by_family(self.signing_only).items()
        return "; ".join(
            f"{family}: " + ", ".join(name + ("*" if name in in_hsm else "") for name in names)
            for family, names in families)


def algorithm(parser: argparse.ArgumentParser, option: str, text: str, signing_only: bool = False,
              **kwargs: Any) -> None:
    """An --algorithm-like option whose help lists the names by family (* = may live in an HSM)."""
    action = parser.add_argument(option, metavar="NAME", help=text + ". Names by family "
                                 "(* may live in an HSM; also: qpki key algorithms): %(algorithms)s",
                                 **kwargs)
    action.algorithms = AlgorithmChoices(signing_only)  # type: ignore[attr-defined]


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1, got %r" % text)
    return number


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help lines are not broken inside a hyphenated name (ml-dsa-65 stays one word)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def group(groups: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command group (``qpki ca``): the subparsers its actions are added to."""
    return groups.add_parser(name, help=help_text).add_subparsers(
        dest="action", metavar="ACTION", required=True)


def command(subparsers: Subparsers, name: str, help_text: str) -> Parser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text,
                                   formatter_class=HelpFormatter)
    example = EXAMPLES.get(parser.prog.split(" ", 1)[-1])  # prog is "qpki GROUP ACTION"
    if example:
        parser.epilog = f"example:\n  {example}"
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser
