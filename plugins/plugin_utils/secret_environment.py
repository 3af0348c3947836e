# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base for the qpki modules: the task's ``environment`` values
(the HSM PIN above all) reach the module without ever being on a command
line or in a file.

Ansible normally runs a module as ``/bin/sh -c 'HSM_PIN=1234 python ...'``.
That line is printed by ``-vvv`` (even with ``no_log``) and, on the managed
host, readable by every user through the process list. Writing the values
to a file instead is no better: a worker killed at the wrong moment leaves
the file behind.

For the qpki modules the values travel on the module's standard input,
ahead of the module itself: the task always runs pipelined (the AnsiballZ
payload goes to the interpreter's stdin, so neither the module nor its
arguments are written on the managed host either), and the command is::

    IFS= read -r __qpki_env_0 && HSM_PIN="$__qpki_env_0" /usr/bin/python3

The shell's ``read`` builtin takes the first line of stdin (byte by byte,
so the payload after it is left to Python) into a shell variable, and the
assignment before the interpreter puts it in the module's environment.
The command line and ``-vvv`` show only the variable's name; no value is
ever on disk. The module still receives an ordinary environment variable,
so the contract is unchanged: the PIN is set with the task's
``environment:`` keyword and is never a module option.

Where that cannot be done the task fails instead of falling back to
Ansible's way: an environment name that is not a shell identifier, a value
with a newline, or a shell other than POSIX ``sh``. A task that cannot run
pipelined (a connection without stdin such as ``containers.podman.podman``,
``ANSIBLE_KEEP_REMOTE_FILES``, ``async``, ``become_method: su``) fails too,
unless the host or play sets ``qpki_environment_file: true``: each value is
then written to a file in the task's private (0700) remote temporary
directory and the command reads and removes it before the module starts
(``HSM_PIN="$(cat <file> && rm -f <file>)"``). That is the weaker channel,
chosen knowingly: a worker killed between writing the file and running the
command leaves the value on the managed host's disk. A task with no
environment runs as usual.

When the managed host is the controller (local connection) the module runs
in the task's worker process instead (``in_process``), where the values are
put in that process's environment for the duration of the module.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.qpki.pki.plugins.plugin_utils import in_process

display = Display()

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SHELL_VARIABLE = "__qpki_env_%d"
FILE_SWITCH = "qpki_environment_file"


class SecretEnvironmentAction(ActionBase):
    """Runs the module named by the task, environment values passed on stdin."""

    _qpki_in_process = False
    _qpki_stdin = None  # the values' lines, sent ahead of the pipelined module
    _qpki_by_file = False  # qpki_environment_file: true on a host that cannot pipeline

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        task_vars = task_vars if task_vars is not None else {}
        environment = self._task_environment()
        problem = _unsafe_environment(environment)
        reason = in_process.why_not(self, task_vars)
        self._qpki_in_process = reason is None
        if reason:
            display.vvvv("qpki: %s runs through AnsiballZ: %s" % (self._task.action, reason),
                         host=self._play_context.remote_addr)
            if environment and not problem:
                problem = self._channel_problem(task_vars)
            else:
                self._force_pipelining()
        result = super(SecretEnvironmentAction, self).run(tmp, task_vars)
        del tmp
        if problem:
            result.update(failed=True, msg="qpki: %s; the task's environment (which may hold "
                          "the HSM PIN) is only passed on the module's standard input, never "
                          "on a command line or in a file" % problem)
        elif self._qpki_in_process:
            result.update(in_process.run_module(self, task_vars))
        else:
            result.update(self._execute_module(task_vars=task_vars))
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _task_environment(self):
        raw = {}
        ActionBase._compute_environment_string(self, raw)
        return raw

    def _channel_problem(self, task_vars):
        """Choose how the environment reaches the module: stdin, or the file
        the play opted into; None when one is usable here, else why not."""
        if getattr(self._connection._shell, "SHELL_FAMILY", None) != "sh":
            return "the remote shell is not POSIX sh"
        not_pipelined = self._force_pipelining()
        if not not_pipelined:
            return None
        if _switched_on(self, task_vars):
            self._qpki_by_file = True
            return None
        return "%s (%s: true accepts a short-lived file instead)" % (not_pipelined, FILE_SWITCH)

    def _force_pipelining(self):
        """Run the module pipelined (its payload and the environment values on
        stdin, nothing written on the managed host); None when that is
        possible here, else why not."""
        try:
            self._connection.set_option("pipelining", True)
        except (AttributeError, KeyError, AnsibleError):  # no such option (podman: no stdin)
            self._play_context.pipelining = True
        if self._is_pipelining_enabled("new"):
            return None
        return ("the module cannot run pipelined on this host (connection %s, become %s, "
                "ANSIBLE_KEEP_REMOTE_FILES or async)"
                % (getattr(self._connection, "transport", "?"),
                   getattr(self._connection.become, "name", "none")))

    def _early_needs_tmp_path(self):
        return False  # pipelined or in process: nothing is transferred

    def _compute_environment_string(self, raw_environment_out=None):
        if isinstance(raw_environment_out, dict):
            # Called while the module is built (the values only serve PowerShell wrappers).
            return super(SecretEnvironmentAction, self)._compute_environment_string(
                raw_environment_out)
        raw = self._task_environment()
        if not raw:
            return ""
        if self._qpki_by_file:
            return self._environment_files(raw)
        reads, assignments, lines = [], [], []
        for number, (name, value) in enumerate(raw.items()):
            variable = _SHELL_VARIABLE % number
            reads.append("IFS= read -r %s" % variable)
            assignments.append('%s="$%s"' % (to_text(name), variable))
            lines.append(to_bytes(value, errors="surrogate_or_strict") + b"\n")
        self._qpki_stdin = b"".join(lines)
        return "%s && %s" % (" && ".join(reads), " ".join(assignments))

    def _environment_files(self, raw):
        """``NAME="$(cat <file> && rm -f <file>)"`` per value, each file in
        the task's private remote temporary directory (the opt-in channel)."""
        shell = self._connection._shell
        parts = []
        for number, (name, value) in enumerate(raw.items()):
            path = shell.join_path(shell.tmpdir, ".qpki-env-%d" % number)
            self._transfer_data(path, to_text(value))
            self._fixup_perms2([path], execute=False)
            quoted = shell.quote(path)
            parts.append('%s="$(cat %s && rm -f %s)"' % (to_text(name), quoted, quoted))
        return " ".join(parts)

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None, *args, **kwargs):
        values, self._qpki_stdin = self._qpki_stdin, None
        if values is not None:
            if in_data is None:  # not pipelined after all: never run without the values
                raise AnsibleError("qpki: the module was not pipelined; refusing to run it "
                                   "without its environment")
            in_data = values + to_bytes(in_data)
        return super(SecretEnvironmentAction, self)._low_level_execute_command(
            cmd, sudoable, in_data, *args, **kwargs)


def _switched_on(action, task_vars):
    value = task_vars.get(FILE_SWITCH, False)
    return boolean(action._templar.template(value), strict=False)


def _unsafe_environment(environment):
    """Why the task's environment cannot be passed safely, or None."""
    for name, value in environment.items():
        if not _NAME.match(to_text(name)):
            return ("environment variable name %r is not a shell identifier (letters, digits "
                    "and '_', not starting with a digit)" % to_text(name))
        if "\n" in to_text(value) or "\x00" in to_text(value):
            return "the value of environment variable %s holds a newline or NUL" % to_text(name)
    return None
