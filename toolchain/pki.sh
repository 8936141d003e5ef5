#!/usr/bin/env bash
# Test/demo PKI for Mote, generated with openssl into DIR (idempotent: a complete PKI of this
# layout version is left alone; a partial one is regenerated).
#
# Usage: toolchain/pki.sh DIR
#
# Good:  ca.crt ca.key ca.der
#        server.crt server.key            CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#        server-rsa.crt server-rsa.key    the same with an RSA 2048 key (as AWS IoT endpoints have)
#        client.crt client.key            EC P-256 client (the default identity)
#        client-p384.crt client-p384.key EC P-384
#        client-rsa.crt client-rsa.key    RSA 2048
#        client.der.crt client.der.key    DER copies of client.crt/client.key
#        client-rsa.der.crt client-rsa.der.key
#        client-enc.key                   client.key encrypted (traditional PEM, AES-256-CBC), password in client-enc.pass
#        client-enc-pkcs8.key             client.key as OpenSSL 3 encrypts PKCS#8 by default
#                                         (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC), same password
#        client-rsa-enc-pkcs8.der.key     client-rsa.key the same way, DER
#        client-rsa-enc.key               client-rsa.key encrypted (traditional PEM, AES-256-CBC), same password
# Bad:   server-expired.{crt,key}         expired in 2021
#        server-future.{crt,key}          valid from 2099
#        server-otherhost.{crt,key}       CN/SAN other.example only
#        server-unknownca.{crt,key}       signed by rogue-ca (not trusted by ca.crt)
#        client-otherca.{crt,key}         client signed by rogue-ca
#        client-mismatch.key              a key that does not belong to client.crt
#        rogue-ca.crt rogue-ca.key
# Every file is world-readable: mosquitto drops to user mosquitto before reading its keys.
set -euo pipefail

LAYOUT=7
DIR=${1:?usage: pki.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ -f "$DIR/.complete" ] && [ "$(cat "$DIR/.complete")" = "$LAYOUT" ]; then
  exit 0
fi
# Several test processes may share one DIR: one generates, the others wait and reuse.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$DIR/.lock"
  flock 9
  if [ -f "$DIR/.complete" ] && [ "$(cat "$DIR/.complete")" = "$LAYOUT" ]; then
    exit 0
  fi
fi

PASS="mote-test-password"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/new"

# A minimal `openssl ca` setup: unlike `openssl x509 -req` it takes explicit start and end
# dates, which the expired and not-yet-valid certificates need.
cat >"$WORK/ca.cnf" <<EOF
[ ca ]
default_ca = mote
[ mote ]
database = $WORK/index.txt
new_certs_dir = $WORK/new
serial = $WORK/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
EOF

cat >"$WORK/ca.ext" <<EOF
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

server_ext() { # SAN...
  cat <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $1
EOF
}

cat >"$WORK/client.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
EOF

ec_key() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

make_ca() { # NAME CN
  ec_key "$DIR/$1.key" P-256
  : >"$WORK/index.txt"
  echo 1000 >"$WORK/serial"
  openssl req -new -key "$DIR/$1.key" -subj "/CN=$2" -out "$WORK/$1.csr"
  openssl ca -batch -config "$WORK/ca.cnf" -selfsign -keyfile "$DIR/$1.key" -in "$WORK/$1.csr" \
    -out "$DIR/$1.crt" -extfile "$WORK/ca.ext" -notext -startdate 20200101000000Z \
    -enddate 20991231000000Z 2>/dev/null
}

# sign NAME CN CA EXTFILE START END: NAME.crt from NAME.key (which must exist).
sign() {
  local name=$1 cn=$2 ca=$3 ext=$4 start=$5 end=$6
  : >"$WORK/index.txt"
  [ -f "$WORK/serial" ] || echo 1000 >"$WORK/serial"
  openssl req -new -key "$DIR/$name.key" -subj "/CN=$cn" -out "$WORK/$name.csr"
  openssl ca -batch -config "$WORK/ca.cnf" -cert "$DIR/$ca.crt" -keyfile "$DIR/$ca.key" \
    -in "$WORK/$name.csr" -out "$DIR/$name.crt" -extfile "$ext" -notext \
    -startdate "$start" -enddate "$end" 2>/dev/null
}

NOW_START=20240101000000Z
NOW_END=20991231000000Z

rm -f "$DIR/.complete"
make_ca ca "Mote Test CA"
make_ca rogue-ca "Rogue CA"
openssl x509 -in "$DIR/ca.crt" -outform DER -out "$DIR/ca.der"

server_ext "DNS:localhost, IP:127.0.0.1, IP:::1" >"$WORK/server.ext"
server_ext "DNS:other.example" >"$WORK/other.ext"

ec_key "$DIR/server.key" P-256
sign server localhost ca "$WORK/server.ext" $NOW_START $NOW_END
rsa_key "$DIR/server-rsa.key"
sign server-rsa localhost ca "$WORK/server.ext" $NOW_START $NOW_END
ec_key "$DIR/server-expired.key" P-256
sign server-expired localhost ca "$WORK/server.ext" 20200101000000Z 20210101000000Z
ec_key "$DIR/server-future.key" P-256
sign server-future localhost ca "$WORK/server.ext" 20990101000000Z 20991231000000Z
ec_key "$DIR/server-otherhost.key" P-256
sign server-otherhost other.example ca "$WORK/other.ext" $NOW_START $NOW_END
ec_key "$DIR/server-unknownca.key" P-256
sign server-unknownca localhost rogue-ca "$WORK/server.ext" $NOW_START $NOW_END

ec_key "$DIR/client.key" P-256
sign client mote-client ca "$WORK/client.ext" $NOW_START $NOW_END
ec_key "$DIR/client-p384.key" P-384
sign client-p384 mote-client-p384 ca "$WORK/client.ext" $NOW_START $NOW_END
rsa_key "$DIR/client-rsa.key"
sign client-rsa mote-client-rsa ca "$WORK/client.ext" $NOW_START $NOW_END
ec_key "$DIR/client-otherca.key" P-256
sign client-otherca mote-client-rogue rogue-ca "$WORK/client.ext" $NOW_START $NOW_END
ec_key "$DIR/client-mismatch.key" P-256

openssl x509 -in "$DIR/client.crt" -outform DER -out "$DIR/client.der.crt"
openssl pkey -in "$DIR/client.key" -outform DER -out "$DIR/client.der.key"
openssl x509 -in "$DIR/client-rsa.crt" -outform DER -out "$DIR/client-rsa.der.crt"
openssl pkey -in "$DIR/client-rsa.key" -outform DER -out "$DIR/client-rsa.der.key"

printf '%s' "$PASS" >"$DIR/client-enc.pass"
# Traditional PEM encryption (AES-256-CBC) reads with every mbedTLS; OpenSSL 3's default
# PKCS#8 (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) is kept as a separate file.
openssl ec -in "$DIR/client.key" -aes256 -passout "pass:$PASS" -out "$DIR/client-enc.key" 2>/dev/null
openssl pkcs8 -topk8 -in "$DIR/client.key" -passout "pass:$PASS" -out "$DIR/client-enc-pkcs8.key"
openssl pkcs8 -topk8 -in "$DIR/client-rsa.key" -passout "pass:$PASS" -outform DER \
  -out "$DIR/client-rsa-enc-pkcs8.der.key"
openssl rsa -in "$DIR/client-rsa.key" -aes256 -traditional -passout "pass:$PASS" \
  -out "$DIR/client-rsa-enc.key" 2>/dev/null

chmod 755 "$DIR"
chmod 644 "$DIR"/*.crt "$DIR"/*.key "$DIR"/*.der "$DIR"/*.pass
echo "$LAYOUT" >"$DIR/.complete"
