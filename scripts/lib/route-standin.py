#!/usr/bin/env python3
"""A stand-in for Traefik's entrypoints in the demo and the browser suite.

One HTTPS listener and one plain-HTTP listener on 127.0.0.1 answer for several host names the
way Traefik would in front of the fleet: the certificate is chosen by SNI from a private CA made
at start (with the expiry each host asks for), and each host answers with a fixed behaviour.
The portal probes it through AUDIT_PROBE_VIA, so no name is ever looked up in DNS.

Usage: route-standin.py DIR HTTPS_PORT HTTP_PORT HOST=CERT:BEHAVIOUR...
  CERT       valid | expires-in-DAYS | expired | self-signed
  BEHAVIOUR  ok | status-CODE | slow-MS | redirect-URL
Writes DIR/ca.pem, then DIR/ready once both listeners accept.
"""

import datetime
import http.server
import os
import socketserver
import ssl
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject, issuer, issuer_key, key, not_before, not_after, dns=None, ca=False):
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert, key):
    return cert.public_bytes(serialization.Encoding.PEM), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def main():
    out_dir, https_port, http_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hosts = {}
    for arg in sys.argv[4:]:
        host, spec = arg.split("=", 1)
        cert, behaviour = spec.split(":", 1)
        hosts[host] = (cert, behaviour)

    now = datetime.datetime.utcnow()
    day = datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make_cert("Audit Portal Demo CA", "Audit Portal Demo CA", ca_key, ca_key, now - day, now + 3650 * day, ca=True)
    with open(os.path.join(out_dir, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))

    contexts = {}
    for host, (kind, _) in hosts.items():
        key = ec.generate_private_key(ec.SECP256R1())
        if kind == "valid":
            start, end = now - day, now + 90 * day
        elif kind.startswith("expires-in-"):
            start, end = now - 60 * day, now + int(kind[len("expires-in-"):]) * day
        elif kind == "expired":
            start, end = now - 92 * day, now - 2 * day
        elif kind == "self-signed":
            start, end = now - day, now + 90 * day
        else:
            sys.exit(f"unknown certificate kind {kind}")
        if kind == "self-signed":
            cert = make_cert(host, host, key, key, start, end, dns=host)
        else:
            cert = make_cert(host, "Audit Portal Demo CA", ca_key, key, start, end, dns=host)
        cert_pem, key_pem = pem(cert, key)
        path = os.path.join(out_dir, host)
        with open(path + ".crt", "wb") as f:
            f.write(cert_pem)
        with open(path + ".key", "wb") as f:
            f.write(key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(path + ".crt", path + ".key")
        contexts[host] = ctx

    default = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    first = next(iter(hosts))
    default.load_cert_chain(os.path.join(out_dir, first + ".crt"), os.path.join(out_dir, first + ".key"))

    def pick(sock, server_name, _ctx):
        if server_name in contexts:
            sock.context = contexts[server_name]

    default.sni_callback = pick

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            if not isinstance(self.connection, ssl.SSLSocket):
                self.send_response(308)
                self.send_header("Location", f"https://{host}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            behaviour = hosts.get(host, (None, "status-404"))[1]
            status, headers, body = 200, [], b"<h1>Demo service</h1>"
            if behaviour.startswith("status-"):
                status, body = int(behaviour[len("status-"):]), b"failing"
            elif behaviour.startswith("slow-"):
                time.sleep(int(behaviour[len("slow-"):]) / 1000)
            elif behaviour.startswith("redirect-"):
                status, body = 302, b""
                headers.append(("Location", behaviour[len("redirect-"):]))
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    secure = Server(("127.0.0.1", https_port), Handler)
    secure.socket = default.wrap_socket(secure.socket, server_side=True)
    plain = Server(("127.0.0.1", http_port), Handler)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    open(os.path.join(out_dir, "ready"), "w").close()
    secure.serve_forever()


if __name__ == "__main__":
    main()
