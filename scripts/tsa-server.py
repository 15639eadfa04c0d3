#!/usr/bin/env python3
"""A throwaway RFC 3161 time-stamping authority for the tests: makes a CA and a TSA
certificate with openssl, then answers POSTed TimeStampReqs with `openssl ts -reply` on
127.0.0.1. Prints "port N" once listening and "ca PATH" (the CA certificate, PEM).

    scripts/tsa-server.py FOLDER      (the caller stops the process and removes FOLDER)
"""
import http.server
import os
import subprocess
import sys

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder)


with open(os.path.join(folder, "tsa.ext"), "w") as f:
    f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n")
with open(os.path.join(folder, "ca.ext"), "w") as f:
    f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
    "-subj", "/CN=ledger-audit test TSA root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=ledger-audit test TSA")
run("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tsa.crt", "-days", "30", "-extfile", "tsa.ext")
with open(os.path.join(folder, "serial"), "w") as f:
    f.write("01\n")
with open(os.path.join(folder, "tsa.cnf"), "w") as f:
    f.write(f"""[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
# Only the signer's certificate in the token (no extra certs): strict DER readers such as
# rfc3161-client refuse the unsorted SET OF that openssl writes for several.
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        qpath = os.path.join(folder, "query.tsq")
        rpath = os.path.join(folder, "reply.tsr")
        with open(qpath, "wb") as f:
            f.write(query)
        done = subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(folder, "tsa.cnf"), "-queryfile", qpath, "-out", rpath],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            self.send_response(500)
            self.end_headers()
            return
        body = open(rpath, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("port", server.server_address[1], flush=True)
print("ca", os.path.join(folder, "ca.crt"), flush=True)
server.serve_forever()
