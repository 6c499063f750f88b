"""The plugin under test is registered even before ``pip install`` made its entry point."""

import pytest

from claimdesk_prompt_pay import plugin


@pytest.fixture
def host(claimdesk_host):
    if claimdesk_host.get("claimdesk_advanced_actions", "prompt_pay_discount") is None:
        claimdesk_host.register(plugin, "prompt_pay")
    return claimdesk_host
