"""The test hosts of test_network.py, run by it inside a network namespace
that the test made (never on the host's own): TCP servers that greet with
their port, UDP servers that echo, and a DNS server on UDP 53 that answers
every NAME.hbtest with the address given as the third argument.  Prints
"ready" once all listen, and ends when its standard input closes."""
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


def serve_dns(s, answer):
    """A query for NAME.hbtest gets one A record; anything else NXDOMAIN."""
    while True:
        query, peer = s.recvfrom(512)
        labels, pos = [], 12
        while pos < len(query) and query[pos]:
            labels.append(query[pos + 1:pos + 1 + query[pos]].decode())
            pos += 1 + query[pos]
        question = query[12:pos + 5]
        ours = labels and labels[-1] == "hbtest"
        head = query[:2] + (b"\x81\x80" if ours else b"\x81\x83") + \
            b"\x00\x01" + (b"\x00\x01" if ours else b"\x00\x00") + \
            b"\x00\x00\x00\x00"
        record = (b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" +
                  socket.inet_aton(answer)) if ours else b""
        s.sendto(head + question + record, peer)


def main():
    work = []
    for port in (int(p) for p in sys.argv[1].split(",")):
        for family in (socket.AF_INET, socket.AF_INET6):
            work.append((serve_tcp, listener(family, port), port))
    for port in (int(p) for p in sys.argv[2].split(",")):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        work.append((serve_udp, s, port))
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("0.0.0.0", 53))
    work.append((serve_dns, dns, sys.argv[3]))
    for fn, s, arg in work:
        threading.Thread(target=fn, args=(s, arg), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()


main()
