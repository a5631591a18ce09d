"""A throw-away test CA and server certificates, made at test time with the `openssl` command.

Everything is ECDSA P-256. Nothing here is trusted by the system: relayd only trusts a
certificate from this CA when its `upstream.ca_file` names `TestCA.ca_cert`.

    ca = TestCA(tmpdir)                                   # self-signed root, CA:TRUE
    good = ca.issue("localhost", dns=["localhost"], ips=["127.0.0.1"])
    other = ca.issue("other", dns=["other.example"])     # valid, but for another name
    good.cert, good.key, good.chain                        # PEM paths
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if not exe:
        raise RuntimeError("the openssl command is needed to make test certificates")
    p = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")


@dataclass(frozen=True)
class ServerCert:
    name: str
    cert: Path  # the leaf certificate (PEM)
    key: Path  # its private key (PEM, unencrypted)
    chain: Path  # leaf followed by the CA certificate, what a server presents


class TestCA:
    """A root CA in `directory` (ca.pem, ca.key) that issues server certificates."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "MailRelay Test CA"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca_cert = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        ext = self.dir / "ca.ext"
        ext.write_text(
            "[v3_ca]\n"
            "basicConstraints = critical, CA:TRUE\n"
            "keyUsage = critical, keyCertSign, cRLSign\n"
            "subjectKeyIdentifier = hash\n"
        )
        self._make_root(name, ext)

    def _make_root(self, name: str, ext: Path) -> None:
        # A minimal config file: no dependency on the system openssl.cnf.
        cnf = self.dir / "ca.cnf"
        cnf.write_text(
            "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = v3_ca\n"
            f"[dn]\nCN = {name}\n" + ext.read_text()
        )
        _openssl(
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(self.ca_key), "-out", str(self.ca_cert), "-days", "3", "-sha256", "-config", str(cnf),
            cwd=self.dir,
        )

    def issue(self, label: str, *, dns: list[str] = (), ips: list[str] = (), cn: str | None = None) -> ServerCert:
        """A server certificate (serverAuth) for the given DNS names and IP addresses."""
        sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips]
        if not sans:
            raise ValueError("a server certificate needs at least one subjectAltName")
        key = self.dir / f"{label}.key"
        csr = self.dir / f"{label}.csr"
        cert = self.dir / f"{label}.pem"
        ext = self.dir / f"{label}.ext"
        ext.write_text(
            "basicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature\n"
            "extendedKeyUsage = serverAuth\n"
            "subjectKeyIdentifier = hash\n"
            "authorityKeyIdentifier = keyid\n"
            f"subjectAltName = {', '.join(sans)}\n"
        )
        _openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={cn or (list(dns) or list(ips))[0]}",
            cwd=self.dir,
        )
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
            "-CAcreateserial", "-out", str(cert), "-days", "2", "-sha256", "-extfile", str(ext),
            cwd=self.dir,
        )
        chain = self.dir / f"{label}.chain.pem"
        chain.write_bytes(cert.read_bytes() + self.ca_cert.read_bytes())
        return ServerCert(label, cert, key, chain)
