# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base for the qpki modules: the task's ``environment`` values
(the HSM PIN above all) reach the module without ever being on a command line.

Ansible normally runs a module as ``/bin/sh -c 'HSM_PIN=1234 python ...'``.
That line is printed by ``-vvv`` (even with ``no_log``) and, on the managed
host, readable by every user through the process list. For the qpki modules
each environment value is written instead to a file in the task's private
remote temporary directory (mode 0700). The command line then carries only
``HSM_PIN="$(cat <file> && rm -f <file>)"``. The module process still
receives an ordinary environment variable, so the contract is unchanged: the
PIN is set with the task's ``environment:`` keyword and is never a module
option. Shells that are not POSIX ``sh`` fall back to Ansible's behaviour.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.qpki.pki.plugins.plugin_utils import in_process

display = Display()

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SecretEnvironmentAction(ActionBase):
    """Runs the module named by the task, environment values passed by file."""

    TRANSFERS_FILES = True  # the remote tmp dir must exist before the module runs

    _qpki_in_process = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        task_vars = task_vars if task_vars is not None else {}
        reason = in_process.why_not(self, task_vars)
        self._qpki_in_process = reason is None
        if reason:
            display.vvvv("qpki: %s runs through AnsiballZ: %s" % (self._task.action, reason),
                         host=self._play_context.remote_addr)
        result = super(SecretEnvironmentAction, self).run(tmp, task_vars)
        del tmp
        if self._qpki_in_process:
            result.update(in_process.run_module(self, task_vars))
        else:
            result.update(self._execute_module(task_vars=task_vars))
        return result

    def _early_needs_tmp_path(self):
        # In process, nothing is transferred: no remote temporary directory.
        return not self._qpki_in_process

    def _compute_environment_string(self, raw_environment_out=None):
        raw = {}
        plain = super(SecretEnvironmentAction, self)._compute_environment_string(raw)
        if isinstance(raw_environment_out, dict):
            # Called while the module is built (the values only serve PowerShell wrappers).
            raw_environment_out.clear()
            raw_environment_out.update(raw)
            return plain
        shell = self._connection._shell
        tmpdir = shell.tmpdir
        if not raw or tmpdir is None or getattr(shell, "SHELL_FAMILY", None) != "sh":
            return plain
        if not all(_NAME.match(to_text(name)) for name in raw):
            return plain
        parts = []
        for number, (name, value) in enumerate(raw.items()):
            path = shell.join_path(tmpdir, ".qpki-env-%d" % number)
            self._transfer_data(path, to_text(value))
            self._fixup_perms2([path])
            quoted = shell.quote(path)
            parts.append('%s="$(cat %s && rm -f %s)"' % (to_text(name), quoted, quoted))
        return " ".join(parts)
