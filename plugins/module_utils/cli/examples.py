"""One example per command, shown at the end of its --help."""

EXAMPLES = {
    "ca init": "qpki ca init --profile ec/root-ca --var cn='Example Root CA' --ca-dir root",
    "ca set-urls": "qpki ca set-urls --ca-dir issuing --crl-url http://pki.example.com/crl/ca.crl",
    "ca info": "qpki ca info --ca-dir issuing --json",
    "ca export": "qpki ca export --ca-dir issuing --bundle chain --out chain.pem",
    "ca rotate": "qpki ca rotate --ca-dir root --profile hybrid/catalyst/root-ca",
    "ca recertify": "qpki ca recertify --ca-dir issuing --parent root",
    "ca versions": "qpki ca versions --ca-dir root",
    "ca activate": "qpki ca activate --ca-dir root --version v1",
    "ca check": "qpki ca check --ca-dir issuing --repair",
    "cert issue": "qpki cert issue --ca-dir issuing --profile ec/tls-server --csr www.csr "
                  "--var cn=www.example.com --out www.crt",
    "cert revoke": "qpki cert revoke --cert www.crt --ca-dir issuing --reason keyCompromise",
    "cert unhold": "qpki cert unhold 5A1F09 --ca-dir issuing",
    "cert info": "qpki cert info 5A1F09 --ca-dir issuing",
    "cert list": "qpki cert list --ca-dir issuing --expiring 30d",
    "cert verify": "qpki cert verify www.crt --ca root.crt --untrusted issuing.crt "
                   "--host www.example.com",
    "crl gen": "qpki crl gen --ca-dir issuing --days 7 --out /var/www/issuing.crl --format der",
    "crl info": "qpki crl info issuing/crl/ca.crl",
    "crl verify": "qpki crl verify issuing/crl/ca.crl --ca issuing/ca.crt",
    "credential enroll": "qpki credential enroll --ca-dir issuing --cred-dir creds "
                         "--profile ec/tls-server --var cn=www.example.com",
    "credential list": "qpki credential list --cred-dir creds",
    "credential info": "qpki credential info www-example-com-20261204-a1b2c3 --cred-dir creds",
    "credential export": "P12_PASS=... qpki credential export ID --cred-dir creds --out www.p12 "
                         "--export-passphrase-env P12_PASS",
    "credential renew": "qpki credential renew ID --cred-dir creds --ca-dir issuing",
    "credential rotate": "qpki credential rotate ID --cred-dir creds --ca-dir issuing",
    "credential activate": "qpki credential activate ID --cred-dir creds --version v1",
    "credential revoke": "qpki credential revoke ID --cred-dir creds --ca-dir issuing "
                         "--reason superseded",
    "ocsp sign": "qpki ocsp sign --ca-dir issuing --request req.der --out resp.der",
    "ocsp serve": "qpki ocsp serve --ca-dir issuing --responder responders/ID "
                  "--listen 127.0.0.1:8080",
    "key gen": "qpki key gen --algorithm ecdsa-p384 --hsm-config hsm.yaml --key-label root-ca-key",
    "key algorithms": "qpki key algorithms --json",
    "key list": "HSM_PIN=... qpki key list --hsm-config hsm.yaml",
    "csr gen": "qpki csr gen --cn www.example.com --dns www.example.com --key-out www.key "
               "--out www.csr",
    "csr info": "qpki csr info www.csr",
    "csr verify": "qpki csr verify www.csr",
    "hsm list": "qpki hsm list --lib /usr/lib/softhsm/libsofthsm2.so",
    "hsm test": "HSM_PIN=... qpki hsm test --hsm-config hsm.yaml --mechanisms ecdsa",
    "profile list": "qpki profile list",
    "profile show": "qpki profile show ec/tls-server",
    "audit verify": "qpki audit verify --ca-dir issuing",
    "audit start": "qpki audit start --ca-dir qpki-made-ca",
}
