"""Profile (one certificate template) and Rendered (its output for one cert).

A profile definition is a mapping with these keys (see DESIGN.md §5):
``name``, ``description``, ``algorithm`` or ``algorithms`` + ``mode``,
``validity``, ``variables``, ``subject``, ``extensions``, ``signature``.
Builtin profiles and YAML files go through the same checks.
"""

import copy

from . import algorithm_rules
from .durations import format_duration, parse_duration
from .ext_common import RenderContext
from .extensions import build_extensions, parse_extensions
from .messages import Invalid, profile_error, quote, type_name
from .subject import SubjectTemplate
from .variables import parse_variables, resolve

TOP_LEVEL_KEYS = ("name", "description", "algorithm", "algorithms", "mode", "validity",
                  "variables", "subject", "extensions", "signature")


class Rendered:
    """The subject, extensions, validity and values for one certificate."""

    __slots__ = ("subject", "extensions", "validity", "values")

    def __init__(self, subject, extensions, validity, values):
        self.subject = subject
        self.extensions = extensions
        self.validity = validity
        self.values = values

    def __repr__(self):
        return "Rendered(subject=%s, extensions=%d)" % (self.subject.rfc4514_string(), len(self.extensions))


class Profile:
    """A validated, immutable certificate template."""

    # Set once in __init__ (object.__setattr__: the class refuses assignment).
    name: str
    description: str
    algorithms: "tuple[str, ...]"
    mode: str
    source: str
    is_ca: bool
    path_len: "int | None"

    def __init__(self, data, name=None, source="builtin"):
        label = name or "<unnamed>"
        if not isinstance(data, dict):
            raise profile_error(label, None, "expected a mapping, got %s" % type_name(data))
        label = data.get("name", label)
        if not isinstance(label, str) or not label.strip():
            raise profile_error(name or "<unnamed>", "name", "must be a non-empty string, got %s" % quote(label))
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                raise profile_error(label, None, "unknown key %s (allowed: %s)"
                                    % (quote(key), ", ".join(TOP_LEVEL_KEYS)))
        description = data.get("description", "")
        if not isinstance(description, str):
            raise profile_error(label, "description", "must be a string, got %s" % type_name(description))
        algorithms, mode = algorithm_rules.parse_algorithms(label, data)
        if "validity" not in data:
            raise profile_error(label, "validity", "is required (e.g. 365d)")
        try:
            validity = parse_duration(data["validity"])
        except Invalid as exc:
            raise profile_error(label, "validity", str(exc)) from exc
        specs = parse_variables(label, data.get("variables"))
        subject = SubjectTemplate(label, data.get("subject"), specs)
        extensions = parse_extensions(label, data.get("extensions"), specs)
        signature = algorithm_rules.parse_signature(label, data.get("signature"))

        basic = extensions.get("basicConstraints")
        is_ca = bool(basic and basic.ca)
        usage = extensions.get("keyUsage")
        if usage is not None:
            if "keyCertSign" in usage.usages and not is_ca:
                raise profile_error(label, "extensions.keyUsage", "keyCertSign needs basicConstraints ca: true")
            algorithm_rules.check_key_usage(label, algorithms, usage.usages)
        if "nameConstraints" in extensions and not is_ca:
            raise profile_error(label, "extensions.nameConstraints", "only allowed in a CA profile")

        s = object.__setattr__
        s(self, "name", label)
        s(self, "description", description)
        s(self, "algorithms", algorithms)
        s(self, "mode", mode)
        s(self, "validity", validity)
        s(self, "source", source)
        s(self, "is_ca", is_ca)
        s(self, "path_len", basic.path_len if basic else None)
        s(self, "_signature", signature)
        s(self, "_specs", specs)
        s(self, "_subject", subject)
        s(self, "_extensions", extensions)
        san = extensions.get("subjectAltName")
        s(self, "_name_variables", subject.variables() | (san.variables() if san else frozenset()))

    def __setattr__(self, key, value):
        raise AttributeError("Profile is immutable")

    def __repr__(self):
        return "Profile(%r)" % self.name

    @property
    def signature(self):
        return dict(self._signature)

    @property
    def variables(self):
        """``{name: spec dict}`` of the declared variables."""
        return {name: spec.to_dict() for name, spec in self._specs.items()}

    @property
    def variable_specs(self):
        """``{name: VariableSpec}`` (immutable objects)."""
        return dict(self._specs)

    def to_dict(self):
        """Plain, JSON-friendly description of the profile."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "algorithms": list(self.algorithms),
            "mode": self.mode,
            "validity": format_duration(self.validity),
            "validity_seconds": int(self.validity.total_seconds()),
            "signature": self.signature,
            "is_ca": self.is_ca,
            "path_len": self.path_len,
            "variables": self.variables,
            "subject": copy.deepcopy(self._subject.to_dict()),
            "extensions": {name: d.to_dict() for name, d in self._extensions.items()},
        }

    def render(self, values=None, csr_subject=None, csr_sans=None):
        """Validate ``values`` and produce the subject and extensions.

        Names come from the operator or from the CSR, never from both: when
        ``values`` gives any name variable (one the subject or
        subjectAltName templates use), the CSR's subject and SANs are not
        used at all. Otherwise the CSR fills the name variables whose
        template is exactly ``{{ var }}``, for the attributes and SAN types
        the profile has; the rest of the CSR is dropped. Then defaults.
        """
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise profile_error(self.name, "variables", "expected a mapping of values, got %s" % type_name(values))
        named = sorted(k for k, v in values.items() if v is not None and k in self._name_variables)
        fallback, note = {}, ""
        if not named:
            fallback = self._csr_names(csr_subject, csr_sans)
        elif csr_subject is not None or csr_sans:
            note = f" (the CSR's names are not used when names are given: {', '.join(named)})"
        resolved = resolve(self.name, self._specs, values, fallback, missing_note=note)
        subject = self._subject.render(resolved)
        ctx = RenderContext(self.name, resolved, subject, self._subject, self._specs)
        extensions = build_extensions(self._extensions, ctx)
        return Rendered(subject, extensions, self.validity, dict(resolved))

    def _csr_names(self, csr_subject, csr_sans) -> dict:
        """Values of name variables taken from a CSR's subject and SANs."""
        found = self._subject.csr_fallback(csr_subject, self._specs)
        san = self._extensions.get("subjectAltName")
        if san is not None:
            for key, value in san.csr_fallback(csr_sans, self._specs).items():
                found.setdefault(key, value)
        return found
