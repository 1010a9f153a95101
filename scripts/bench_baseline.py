"""Baseline for the issuance benchmark: the same work done with Python `cryptography`
(OpenSSL): an ECDSA P-256 key, a certificate signed by an ECDSA P-256 CA, and a PKCS#12 with
PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC at the same iterations, on as
many processes as there are cores. Prints JSON lines like the Rust benchmark.
"""
import datetime
import json
import multiprocessing
import os
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_KEY = ec.generate_private_key(ec.SECP256R1())
CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AC SISERI")])


def one(iterations: int, i: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Pierre DILLENSEGER {i}")]))
        .issuer_name(CA_NAME)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1095))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(CA_KEY, hashes.SHA256())
    )
    enc = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(iterations)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(b"AAAA-BBBB")
    )
    pkcs12.serialize_key_and_certificates(b"Pierre DILLENSEGER", key, cert, None, enc)


def worker(args):
    iterations, count, offset = args
    for i in range(count):
        one(iterations, offset + i)


def measure(iterations: int, workers: int, per_worker: int) -> float:
    start = time.perf_counter()
    if workers == 1:
        worker((iterations, per_worker, 0))
    else:
        with multiprocessing.Pool(workers) as pool:
            pool.map(worker, [(iterations, per_worker, w * per_worker) for w in range(workers)])
    return workers * per_worker / (time.perf_counter() - start)


def main() -> None:
    quick = "--quick" in sys.argv
    workers = os.cpu_count() or 2
    for iterations in (2048, 100_000):
        n = {(True, 2048): 20, (True, 100_000): 4, (False, 2048): 400, (False, 100_000): 40}[(quick, iterations)]
        for w in (workers, 1):
            rate = measure(iterations, w, max(n // workers, 2))
            print(json.dumps({"impl": "python-cryptography", "measure": f"person_p12_{iterations}", "workers": w, "per_second": round(rate, 2)}))


if __name__ == "__main__":
    main()
