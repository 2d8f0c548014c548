"""review11: a NOTIFY_SOCKET that does not take berth's datagram must never hold berth (docs/reliability.md items 72 and 88).

systemd reads its notification socket at once, but NOTIFY_SOCKET is only an environment variable: a socket whose
reader stopped (its queue full: `net.unix.max_dgram_qlen` datagrams), left there by a wrapper or a test harness,
made berth's blocking sendto(2) wait for ever. READY=1 is sent on the thread that then handles the signals, so berth
listened, served nothing it was told and never acted on a SIGTERM. Before the fix: no exit 10 s after the SIGTERM."""
import os
import signal
import socket
import subprocess
import tempfile

from berthkit import LOOPBACK_FLAGS, spawn


def _full_datagram_socket(path):
    """A bound datagram socket that is never read, its queue filled to the brim by another socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.setblocking(False)
    for _ in range(100_000):
        try:
            filler.sendto(b"x", path)
        except BlockingIOError:
            break
    else:
        raise AssertionError("the datagram queue never filled")
    filler.close()
    return sock


def test_a_notify_socket_whose_queue_is_full_does_not_hold_the_start_or_the_stop():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "notify")
        sock = _full_datagram_socket(path)
        p = spawn(LOOPBACK_FLAGS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                  env={"NOTIFY_SOCKET": path})
        try:
            line = p.stdout.readline()
            assert line.startswith("berth listening"), line
            p.send_signal(signal.SIGTERM)
            try:
                _, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                raise AssertionError("berth did not stop within 10 s of the SIGTERM: held by NOTIFY_SOCKET") from None
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            sock.close()
        assert p.returncode == 0, (p.returncode, err[-500:])
        assert "msg=stopped" in err, err[-800:]


def test_notify_socket_names_that_are_not_a_datagram_socket_are_ignored():
    """A very long path, a bare `@`, a regular file, a stream socket, an unknown scheme: berth starts and stops."""
    with tempfile.TemporaryDirectory() as d:
        regular = os.path.join(d, "file")
        open(regular, "w").close()
        stream_path = os.path.join(d, "stream")
        stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stream.bind(stream_path)
        stream.listen(1)
        names = ["/" + "a" * 200, "@", "@" + "b" * 107, "@" + "c" * 200, regular, stream_path, d, "vsock:2:9",
                 "relative/path", ""]
        try:
            for name in names:
                p = spawn(LOOPBACK_FLAGS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={"NOTIFY_SOCKET": name})
                try:
                    line = p.stdout.readline()
                    assert line.startswith("berth listening"), (name, line, p.stderr.read()[-500:])
                    p.send_signal(signal.SIGTERM)
                    _, err = p.communicate(timeout=10)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                assert p.returncode == 0, (name, p.returncode, err[-500:])
        finally:
            stream.close()
