"""Nothing that does not talk to an HSM pays for importing python-pkcs11."""

import subprocess
import sys
import textwrap


def test_hsm_modules_do_not_import_pkcs11(tmp_path):
    config = tmp_path / "hsm.yaml"
    config.write_text("type: pkcs11\npkcs11: {lib: /opt/x/lib.so, token: T, pin_env: P}\n")
    code = textwrap.dedent("""
        import sys
        import qpki.hsm, qpki.hsm.config, qpki.hsm.pin, qpki.hsm.library, qpki.hsm.token
        import qpki.hsm.session, qpki.hsm.keys, qpki.hsm.discovery, qpki.hsm.signing
        import qpki.hsm.crypto_keys, qpki.signer.pkcs11
        from qpki.hsm.config import load_hsm_config
        load_hsm_config(sys.argv[1], check_lib=False)
        assert "pkcs11" not in sys.modules, "pkcs11 imported eagerly"
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code, str(config)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
