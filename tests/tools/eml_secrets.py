"""Reads the e-mails of the file outbox (RFC 5322, quoted-printable or base64 bodies) with
Python's own MIME parser, and prints what their readers would take from them.

usage: eml_secrets.py FILE.eml...
prints a JSON list, one object per file, in the order given:
  {"file", "to", "to_name", "subject", "message_id", "body",
   "token", "withdrawal_code", "p12_password", "access_code"}
the last four are null when the e-mail does not carry them.
"""
import email
import email.policy
import email.utils
import json
import re
import sys

TOKEN = re.compile(r"/retrait/([A-Za-z0-9_-]+)")
WITHDRAWAL_CODE = re.compile(r"code de retrait\s+([A-Z0-9]{9})\b")
P12_PASSWORD = re.compile(r"protégé par le mot de passe\s+(\S+)\s+qui")
ACCESS_CODE = re.compile(r"Mot de passe SISERI\s*:\s*([0-9]+)")


def first(pattern, text):
    m = pattern.search(text)
    return m.group(1) if m else None


def read(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        raise SystemExit(f"{path}: no text/plain part")
    body = part.get_content()
    name, address = email.utils.parseaddr(str(msg["To"]))
    return {
        "file": path,
        "to": address,
        "to_name": name,
        "subject": str(msg["Subject"]),
        "message_id": str(msg["Message-ID"]),
        "body": body,
        "token": first(TOKEN, body),
        "withdrawal_code": first(WITHDRAWAL_CODE, body),
        "p12_password": first(P12_PASSWORD, body),
        "access_code": first(ACCESS_CODE, body),
    }


def main():
    print(json.dumps([read(p) for p in sys.argv[1:]], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
