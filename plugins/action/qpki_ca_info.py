# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of qpki.pki.qpki_ca_info: keeps environment values off the
command line like the other qpki modules; see plugin_utils/secret_environment.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.qpki.pki.plugins.plugin_utils.secret_environment import (
    SecretEnvironmentAction)


class ActionModule(SecretEnvironmentAction):
    """Runs qpki_ca_info with its environment on the module's stdin."""
