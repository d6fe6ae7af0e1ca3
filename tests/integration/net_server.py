"""The test hosts of test_network.py, run by it inside a network namespace
that the test made (never on the host's own): TCP servers that greet with
their port, UDP servers that echo.  Prints "ready" once all listen, and
ends when its standard input closes."""
import socket
import sys
import threading


def listener(family, port):
    s = socket.socket(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    s.listen(128)
    return s


def serve_tcp(s, port):
    while True:
        conn, _ = s.accept()
        with conn:
            conn.sendall(b"hello %d\n" % port)


def serve_udp(s, port):
    while True:
        _, peer = s.recvfrom(512)
        s.sendto(b"echo %d" % port, peer)


def main():
    work = []
    for port in (int(p) for p in sys.argv[1].split(",")):
        for family in (socket.AF_INET, socket.AF_INET6):
            work.append((serve_tcp, listener(family, port), port))
    for port in (int(p) for p in sys.argv[2].split(",")):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        work.append((serve_udp, s, port))
    for fn, s, port in work:
        threading.Thread(target=fn, args=(s, port), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()


main()
