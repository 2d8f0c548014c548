"""One berth in front of three cut origins (TCP, TLS, a Unix socket) for a test module, and the counter it watches."""
import itertools

from berthkit import LOOPBACK_FLAGS, Berth, stats
from berthkit.tls_pki import PKI
from berthkit.cut_origin import CutOrigin

UNIX_HOST = "cut-origin.unix:80"


class Rig:
    """berth with a destination for the TLS origin (`localhost`, the test CA) and one for the Unix-socket origin
    (`UNIX_HOST`); `hosts` names each origin as a request does. A case puts its bytes in `cases` under `new_id()`."""

    def __init__(self, tmp):
        self.cases, self.ids = {}, itertools.count()
        (tmp / "pki").mkdir()
        pki = PKI(str(tmp / "pki"))
        self.origins = {"tcp": CutOrigin("tcp", self.cases), "tls": CutOrigin("tls", self.cases, pki=pki),
                        "unix": CutOrigin("unix", self.cases, directory=str(tmp))}
        self.hosts = {"tcp": f"127.0.0.1:{self.origins['tcp'].port}", "tls": f"localhost:{self.origins['tls'].port}",
                      "unix": UNIX_HOST}
        conf = tmp / "berth.yaml"
        conf.write_text(f"destinations:\n  - match: localhost\n    tls: {{ca-file: \"{pki.ca}\"}}\n"
                        f"  - {{match: \"{UNIX_HOST}\", unix: \"{self.origins['unix'].path}\"}}\n")
        self.berth = Berth([*LOOPBACK_FLAGS, "--config", str(conf)])

    def new_id(self):
        return str(next(self.ids))

    def truncated(self):
        """The worker totals' `response-truncated` count."""
        return stats(self.berth)["totals"]["errors"]["response-truncated"]

    def close(self):
        self.berth.stop()
        for o in self.origins.values():
            o.close()
