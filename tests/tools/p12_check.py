"""Opens a PKCS#12 file with Python `cryptography` (OpenSSL without its legacy provider when
CRYPTOGRAPHY_OPENSSL_NO_LEGACY=1) and prints what it holds.

usage: p12_check.py FILE PASSWORD
exit 0 and a JSON summary on success; exit 3 when the password is refused.
"""
import json
import sys

from cryptography.hazmat.primitives.serialization import pkcs12


def main() -> int:
    path, password = sys.argv[1], sys.argv[2].encode()
    data = open(path, "rb").read()
    try:
        p12 = pkcs12.load_pkcs12(data, password)
    except ValueError as e:
        print(f"refused: {e}", file=sys.stderr)
        return 3
    print(
        json.dumps(
            {
                "key": type(p12.key).__name__ if p12.key else None,
                "cert_subject": p12.cert.certificate.subject.rfc4514_string() if p12.cert else None,
                "friendly_name": p12.cert.friendly_name.decode() if p12.cert and p12.cert.friendly_name else None,
                "additional": [c.certificate.subject.rfc4514_string() for c in p12.additional_certs],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
