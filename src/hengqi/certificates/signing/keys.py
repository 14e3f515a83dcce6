"""Laboratory keys and X.509 certificates: loading, and a throw-away test CA plus signer for trying signing out.

:func:`make_test_keys` writes a small PKI that is for tests and demonstrations only, never for certificates a
customer relies on: a self-signed test CA (``ca-cert.pem``), a signer key (``signer-key.pem``, ECDSA P-256, PKCS#8,
unencrypted) and the signer's certificate issued by that CA (``signer-cert.pem``, key usage digitalSignature and
nonRepudiation).  Verify with ``--trust ca-cert.pem`` (chain to the CA) or ``--cert signer-cert.pem`` (pin the
signer).  An encrypted private key is read with the passphrase in ``$HENGQI_KEY_PASSWORD``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from hengqi.certificates.errors import KeyMaterialError

__all__ = [
    "KEY_PASSWORD_ENV",
    "KeyFiles",
    "SigningIdentity",
    "load_certificate",
    "load_signing_identity",
    "make_test_keys",
    "subject_fields",
]

KEY_PASSWORD_ENV: Final = "HENGQI_KEY_PASSWORD"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """A private key with its certificate (and the PEM texts the signing libraries take)."""

    key: PrivateKey
    certificate: x509.Certificate
    key_pem: bytes
    cert_pem: bytes
    key_path: Path
    cert_path: Path

    @property
    def algorithm(self) -> str:
        """The XML-DSig signature algorithm for this key (RFC 6931 / W3C XML-DSig 1.1 names)."""
        return "ecdsa-sha256" if isinstance(self.key, ec.EllipticCurvePrivateKey) else "rsa-sha256"


@dataclass(frozen=True, slots=True)
class KeyFiles:
    """Where :func:`make_test_keys` wrote its files."""

    ca_cert: Path
    signer_key: Path
    signer_cert: Path


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    file = Path(path)
    try:
        return file.read_bytes()
    except FileNotFoundError as err:
        raise KeyMaterialError(str(file), f"{what}: no such file") from err
    except OSError as err:
        raise KeyMaterialError(str(file), f"{what}: cannot read ({err})") from err


def load_certificate(path: str | os.PathLike[str]) -> x509.Certificate:
    """An X.509 certificate from a PEM or DER file; :class:`KeyMaterialError` otherwise."""
    data = _read(path, "certificate")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as err:
        raise KeyMaterialError(str(path), f"not an X.509 certificate ({err})") from err


def load_signing_identity(key_path: str | os.PathLike[str], cert_path: str | os.PathLike[str]) -> SigningIdentity:
    """Load a private key (PEM; RSA or EC) and its certificate, and check that they belong together."""
    key_data = _read(key_path, "private key")
    password = os.environ.get(KEY_PASSWORD_ENV)
    try:
        key = serialization.load_pem_private_key(key_data, password.encode() if password else None)
    except TypeError as err:
        raise KeyMaterialError(str(key_path), f"the key is encrypted: set {KEY_PASSWORD_ENV}") from err
    except ValueError as err:
        raise KeyMaterialError(str(key_path), f"not a PEM private key, or wrong password ({err})") from err
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyMaterialError(str(key_path), f"unsupported key type {type(key).__name__} (use RSA or ECDSA)")
    cert = load_certificate(cert_path)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != cert.public_key().public_bytes(
        serialization.Encoding.DER, public
    ):
        raise KeyMaterialError(str(cert_path), f"the certificate does not belong to the key {key_path}")
    unencrypted = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningIdentity(
        key, cert, unencrypted, cert.public_bytes(serialization.Encoding.PEM), Path(key_path), Path(cert_path)
    )


def subject_fields(cert: x509.Certificate) -> tuple[str, str]:
    """``(CN, O)`` of a certificate's subject (empty strings where absent)."""

    def first(oid: x509.ObjectIdentifier) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return first(NameOID.COMMON_NAME), first(NameOID.ORGANIZATION_NAME)


def _name(cn: str, org: str, country: str | None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if country:
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    return x509.Name(attrs)


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


#: Longest validity of a test certificate, in days.
MAX_TEST_DAYS = 36_500


def make_test_keys(
    out_dir: str | os.PathLike[str],
    *,
    cn: str = "hengqi test signer",
    org: str = "hengqi test laboratory",
    country: str | None = None,
    days: int = 365,
    now: dt.datetime | None = None,
) -> KeyFiles:
    """Write a test CA certificate, a signer key and the signer certificate into ``out_dir`` (created if needed).

    Refuses to overwrite existing key files (:class:`KeyMaterialError`).
    """
    out = Path(out_dir)
    paths = KeyFiles(out / "ca-cert.pem", out / "signer-key.pem", out / "signer-cert.pem")
    for path in (paths.ca_cert, paths.signer_key, paths.signer_cert):
        if path.exists():
            raise KeyMaterialError(str(path), "exists already; choose another --out folder")
    if not 1 <= days <= MAX_TEST_DAYS:
        raise KeyMaterialError("days", f"must be 1 to {MAX_TEST_DAYS} (100 years), got {days}")
    for option, text in (("cn", cn), ("org", org)):
        # RFC 5280, Appendix A.1: ub-common-name and ub-organization-name are 64 characters
        if not 1 <= len(text.strip()) <= 64 or not text.isprintable():
            raise KeyMaterialError(option, f"must be 1 to 64 printable characters, got {len(text)}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KeyMaterialError(str(out), f"cannot create folder ({err})") from err
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    end = start + dt.timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{org} test CA", org, country)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org, country))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    paths.signer_cert.write_bytes(cert.public_bytes(pem))
    # created with mode 0600: the private key is never readable by others, not even for a moment
    descriptor = os.open(paths.signer_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths
