# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a qpki module inside the task's worker process (the "in-process" fast path).

Ansible forks one worker process per task (and host). When the managed host
is the controller itself (connection ``local``), the usual way of running a
module costs about a second per task: the controller builds the AnsiballZ
payload (a dependency scan of module_utils on the first use of each module),
then a new Python process starts, unpacks the zip, imports
``ansible.module_utils.basic`` and compiles the qpki core from the zip again
(there is no ``.pyc`` cache inside a zip payload).

On that path the qpki action plugins run the module's own ``main()`` inside
the worker instead, the way ansible.netcommon's "direct execution" does:

- the module gets its arguments exactly as AnsiballZ would hand them over:
  the task arguments plus the ``_ansible_*`` internal ones
  (``ActionBase._update_module_args``: check mode, diff, no_log,
  verbosity...), serialised with the module serialisation profile and read
  back by the real ``AnsibleModule``. Argument spec validation, check mode,
  diff, no_log masking, the file common arguments, warnings and failure
  messages are therefore the module's own;
- the task's ``environment`` (the HSM PIN) is put into the worker's
  ``os.environ`` for the duration of the run and taken out again. The
  worker is a forked child: the controller's parent process never sees the
  values, and nothing about them is displayed;
- what the module prints is captured and parsed by the same
  ``_parse_returned_data`` as a module's output over a connection, so the
  task result has the same shape; an exception that escapes the module
  becomes the same failure AnsiballZ would report.

The fast path is taken only when it cannot change the outcome; otherwise
the module runs through AnsiballZ as usual:

- the connection is ``local`` (``ansible.builtin.local``; ``delegate_to`` a
  host with a local connection counts),
- no ``become``, no ``async``,
- the host's Python interpreter (``ansible_python_interpreter``) is the
  controller's own, or not set / ``auto*``,
- the qpki core's dependencies import in the controller's Python,
- it is not switched off: ``QPKI_IN_PROCESS=0`` in the controller's
  environment, or ``qpki_in_process: false`` as a (host, play or task)
  variable.

Ansible imports the action plugins in its main process, when it loads the
play, before it forks the workers. This file then imports the seven modules
and the qpki core there too (``preload``), once, so that each worker starts
with them already imported instead of spending a fifth of a second on them.
Importing has no side effect: nothing is opened, no PKCS#11 library is
loaded (the core imports python-pkcs11 only when it talks to a token), and
a missing dependency only means the workers will find out for themselves.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import importlib
import io
import json
import os
import sys
import traceback

from ansible import constants as C
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps

display = Display()

SWITCH_ENV = "QPKI_IN_PROCESS"
SWITCH_VAR = "qpki_in_process"
LOCAL_CONNECTIONS = ("local", "ansible.builtin.local", "ansible.legacy.local")
PROFILE = "legacy"  # the serialisation profile of modules without METADATA (ours)
CORE_PROBE = "ansible_collections.qpki.pki.plugins.module_utils.ops.ensure"
MODULES = ("qpki_ca", "qpki_cert", "qpki_crl", "qpki_credential", "qpki_hsm_key",
           "qpki_hsm_info", "qpki_cert_info")
_CORE_STATE = {}


def preload():
    """Import the modules (and through them the qpki core) in this process;
    quietly nothing when the fast path is switched off or they do not import."""
    value = os.environ.get(SWITCH_ENV)
    if value is not None and not boolean(value, strict=False):
        return
    try:
        if _core_importable() is None:
            for name in MODULES:
                importlib.import_module("ansible_collections.qpki.pki.plugins.modules." + name)
    except Exception:  # pylint: disable=broad-except  # the worker will report it
        pass


def _switched_off(action, task_vars):
    value = os.environ.get(SWITCH_ENV)
    if value is not None and not boolean(value, strict=False):
        return "%s=%s in the controller's environment" % (SWITCH_ENV, value)
    if SWITCH_VAR in task_vars:
        value = action._templar.template(task_vars[SWITCH_VAR])
        if not boolean(value, strict=False):
            return "%s is false" % SWITCH_VAR
    return None


def _connection_name(action):
    connection = action._connection
    return getattr(connection, "_load_name", None) or getattr(connection, "transport", None)


def _host_vars(action, task_vars):
    if action._task.delegate_to:
        delegated = (task_vars.get("ansible_delegated_vars") or {}).get(action._task.delegate_to)
        if delegated:
            return delegated
    return task_vars


def _interpreter(action, task_vars):
    value = C.config.get_config_value("INTERPRETER_PYTHON", variables=_host_vars(action, task_vars))
    return to_text(action._templar.template(value) or "").strip()


def _same_python(interpreter):
    """True when ``interpreter`` is the controller's own Python (same
    environment: same path, or a link to the same binary in the same bin
    directory, links resolved), or is left to discovery."""
    if not interpreter or interpreter.startswith("auto"):
        return True
    path = os.path.expanduser(interpreter.split()[0])
    if not os.path.isabs(path):
        from shutil import which

        path = which(path) or path
    path, mine = os.path.abspath(path), os.path.abspath(sys.executable)
    if path == mine:
        return True
    # A virtualenv's bin/python is a link to the base interpreter: the same
    # binary in the same (real) bin directory is the same environment.
    real = os.path.realpath
    return (real(os.path.dirname(path)) == real(os.path.dirname(mine))
            and real(path) == real(mine))


def _core_importable():
    """None when the qpki core and its dependencies import here, else why not
    (checked once per worker process)."""
    if "problem" not in _CORE_STATE:
        problem = None
        try:
            import cryptography

            major = int(cryptography.__version__.split(".")[0])
            if major < 49:
                problem = "cryptography %s < 49 in the controller's Python" % cryptography.__version__
            else:
                for name in ("yaml", "pyasn1", "pyasn1_modules", CORE_PROBE):
                    importlib.import_module(name)
        except Exception as exc:  # pylint: disable=broad-except
            problem = "the qpki core does not import in the controller's Python (%s: %s)" % (
                type(exc).__name__, exc)
        _CORE_STATE["problem"] = problem
    return _CORE_STATE["problem"]


def why_not(action, task_vars):
    """None when the module of this task may run in the worker process, else
    the reason it goes through AnsiballZ."""
    try:
        reason = _switched_off(action, task_vars)
        if reason:
            return reason
        name = _connection_name(action)
        if name not in LOCAL_CONNECTIONS:
            return "connection %s is not local" % name
        if action._play_context.become or getattr(action._connection, "become", None) is not None:
            return "become is set"
        if action._task.async_val:
            return "async is set"
        interpreter = _interpreter(action, task_vars)
        if not _same_python(interpreter):
            return "ansible_python_interpreter %s is not the controller's Python %s" % (
                interpreter, sys.executable)
        return _core_importable()
    except Exception as exc:  # pylint: disable=broad-except
        return "cannot tell (%s: %s)" % (type(exc).__name__, exc)


def _module(action):
    context = action._shared_loader_obj.module_loader.find_plugin_with_context(
        action._task.action, collection_list=action._task.collections)
    if not context.resolved:
        raise ImportError("module %s not found" % action._task.action)
    return importlib.import_module(context.plugin_resolved_name)


def _report_exception(exception):
    """Print what AnsiballZ prints for an exception that escaped a module."""
    try:
        from ansible.module_utils._internal._ansiballz import _loader

        _loader._handle_exception(exception, PROFILE)  # prints the result, raises SystemExit
    except SystemExit:
        return
    except Exception:  # pylint: disable=broad-except  # private API changed: plain failure
        pass
    print(json.dumps({"failed": True, "msg": "%s: %s" % (type(exception).__name__, exception),
                      "exception": traceback.format_exc()}))


class _Sandbox:
    """What a module run changes in the worker process, restored afterwards
    (a loop runs all its items in one worker)."""

    def __init__(self, environment):
        self.environment = environment

    def __enter__(self):
        from ansible.module_utils import basic
        from ansible.module_utils.common import warnings as module_warnings

        self.basic, self.module_warnings = basic, module_warnings
        self.saved_environ = dict(os.environ)
        self.saved_cwd = os.getcwd()
        self.saved_streams = sys.stdout, sys.stderr
        self.saved_args = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE
        self.saved_messages = []
        for name in ("_global_warnings", "_global_deprecations"):
            store = getattr(module_warnings, name, None)
            if isinstance(store, dict):
                self.saved_messages.append((store, dict(store)))
                store.clear()
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        os.environ.update(self.environment)
        sys.stdout, sys.stderr = self.stdout, self.stderr
        return self

    def __exit__(self, *exc_info):
        sys.stdout, sys.stderr = self.saved_streams
        self.basic._ANSIBLE_ARGS, self.basic._ANSIBLE_PROFILE = self.saved_args
        for store, saved in self.saved_messages:
            store.clear()
            store.update(saved)
        for name in list(os.environ):
            if name not in self.saved_environ:
                del os.environ[name]
        for name, value in self.saved_environ.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
        try:
            os.chdir(self.saved_cwd)
        except OSError:
            pass
        return False


def run_module(action, task_vars):
    """Run the task's module in this process; returns the task result as
    ``ActionBase._execute_module`` would."""
    from ansible.module_utils.common.json import Direction, get_module_encoder

    module_name = action._task.action
    module_args = copy.deepcopy(action._task.args)
    action._update_module_args(module_name, module_args, task_vars)
    encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    json_params = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode("utf-8")
    raw = {}
    ActionBase._compute_environment_string(action, raw)  # the values, without a command line
    environment = dict((to_text(k), to_text(v)) for k, v in raw.items())
    module = _module(action)
    display.vvv("qpki: running %s in the task's worker process (local connection; %s=0 or "
                "%s: false runs it through AnsiballZ)" % (module_name, SWITCH_ENV, SWITCH_VAR),
                host=action._play_context.remote_addr)
    rc = 0
    disable_core_dumps()  # this worker is about to hold the PIN in its environment
    with _Sandbox(environment) as sandbox:
        sandbox.basic._ANSIBLE_ARGS, sandbox.basic._ANSIBLE_PROFILE = json_params, PROFILE
        try:
            module.main()
            raise RuntimeError("New-style module did not handle its own exit.")
        except SystemExit as exc:
            code = exc.code
            rc = code if isinstance(code, int) else (0 if code is None else 1)
        except Exception as exc:  # pylint: disable=broad-except  # as AnsiballZ reports it
            rc = 1
            _report_exception(exc)
    stdout, stderr = sandbox.stdout.getvalue(), sandbox.stderr.getvalue()
    res = {"rc": rc, "stdout": stdout, "stdout_lines": stdout.splitlines(),
           "stderr": stderr, "stderr_lines": stderr.splitlines()}
    data = action._parse_returned_data(res, PROFILE)
    data.pop("_ansible_suppress_tmpdir_delete", None)
    remove_internal_keys(data)
    for stream in ("stdout", "stderr"):
        if stream in data and "%s_lines" % stream not in data:
            data["%s_lines" % stream] = (data.get(stream) or u"").splitlines()
    return data


preload()
