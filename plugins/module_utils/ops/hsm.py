"""hsm list, hsm test: token discovery and a login check."""


def hsm_list(lib):
    from ..hsm.discovery import list_slots

    return {"changed": False, "lib": lib, "slots": list_slots(lib)}


def hsm_test(hsm_config):
    from ..hsm.config import load_hsm_config
    from ..hsm.discovery import test_connection

    result = test_connection(load_hsm_config(hsm_config))
    result["changed"] = False
    return result
