"""A throwaway PKI made at test time with the openssl command-line tool: CAs, server and client certificates.

Every certificate lives in a temporary directory and expires within days; nothing is committed. EC P-256 keys, so
the whole set takes well under a second to make.
"""
import os
import subprocess

CA_CONFIG = """[ ca ]
default_ca = test_ca
[ test_ca ]
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
default_md = sha256
policy = anything
copy_extensions = none
[ anything ]
commonName = supplied
"""


class PKI:
    """Paths of a test CA, a second CA nobody trusts, a client CA and the certificates they issued."""

    def __init__(self, directory):
        self.dir = directory
        self.ca, self.ca_key = self._ca("berth test CA")
        self.other_ca, self.other_ca_key = self._ca("a CA berth does not know")
        self.client_ca, self.client_ca_key = self._ca("berth test client CA")
        # localhost and 127.0.0.1, as the origin is reached by either.
        self.server, self.server_key = self._leaf("localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth")
        self.wrong_host, self.wrong_host_key = self._leaf("other.example", "DNS:other.example", "serverAuth")
        self.unknown_ca, self.unknown_ca_key = self._leaf("localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth",
                                                          ca=(self.other_ca, self.other_ca_key), name="unknown")
        self.expired, self.expired_key = self._leaf("localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth",
                                                    name="expired", window=("20200101000000Z", "20200102000000Z"))
        self.client, self.client_key = self._leaf("berth-client", None, "clientAuth",
                                                  ca=(self.client_ca, self.client_ca_key), name="client")
        self.other_client, self.other_client_key = self._leaf("a stranger", None, "clientAuth", name="stranger")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _run(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    def _key_args(self, key):
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key]

    def _ca(self, cn):
        slug = cn.replace(" ", "-")
        cert, key = self.path(f"{slug}.pem"), self.path(f"{slug}.key")
        self._run("req", "-x509", *self._key_args(key), "-out", cert, "-days", "3", "-subj", f"/CN={cn}",
                  "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return cert, key

    def _leaf(self, cn, san, usage, ca=None, name=None, window=None):
        name = name or cn.replace(" ", "-")
        ca_cert, ca_key = ca or (self.ca, self.ca_key)
        cert, key, csr, ext = (self.path(f"{name}{s}") for s in (".pem", ".key", ".csr", ".ext"))
        self._run("req", "-new", *self._key_args(key), "-out", csr, "-subj", f"/CN={cn}")
        with open(ext, "w") as f:
            f.write("[ leaf ]\nbasicConstraints=CA:FALSE\n" + (f"subjectAltName={san}\n" if san else "")
                    + f"extendedKeyUsage={usage}\n")
        if window is None:
            self._run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-days", "3",
                      "-out", cert, "-extfile", ext, "-extensions", "leaf")
        else:
            # `openssl ca` is the one that takes an explicit validity window (an expired certificate).
            cnf = self.path(f"{name}.cnf")
            with open(cnf, "w") as f:
                f.write(CA_CONFIG.format(d=self.dir))
            open(self.path("index.txt"), "a").close()
            if not os.path.exists(self.path("serial")):
                with open(self.path("serial"), "w") as f:
                    f.write("1000\n")
            self._run("ca", "-batch", "-notext", "-config", cnf, "-cert", ca_cert, "-keyfile", ca_key, "-in", csr,
                      "-out", cert, "-startdate", window[0], "-enddate", window[1], "-extfile", ext, "-extensions", "leaf")
        return cert, key
