#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (sourced by scripts/test.sh
# after scripts/prereqs.sh): installs Debian's postgresql when initdb is
# missing, creates a data directory in a temporary directory, starts the
# server on a free loopback port (as the `postgres` user when run as root:
# PostgreSQL refuses to run as root) and exports
#   MESHPLANE_TEST_POSTGRES_URL   postgres://meshplane:...@127.0.0.1:PORT/postgres?sslmode=disable
#   MESHPLANE_TEST_POSTGRES_CTL   the command (words without spaces) that runs pg_ctl on it: the fault
#                                 tests append `-m fast stop` and `-w start`
#   MESHPLANE_TEST_POSTGRES_CA    the throwaway CA (PEM) that signed the server's certificate: the
#                                 server takes TLS (`ssl = on`, certificate for 127.0.0.1 and
#                                 localhost) and plain connections alike
# Call postgres_stop (test.sh does, from its EXIT trap) to stop it and remove the directory.
# Expects ROOT and the helpers die/step to be set.

pg_bin=""
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && pg_bin="$d"
done
if [ -z "$pg_bin" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        step "apt-get install postgresql"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
            || die "apt-get install postgresql failed"
        for d in /usr/lib/postgresql/*/bin; do
            [ -x "$d/initdb" ] && pg_bin="$d"
        done
    fi
    [ -n "$pg_bin" ] || die "PostgreSQL is missing; run as root or: sudo apt-get install -y postgresql"
fi

if ! command -v openssl >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "openssl is missing; run as root or: sudo apt-get install -y openssl"
    step "apt-get install openssl"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null \
        || die "apt-get install openssl failed"
fi

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "the postgres user is missing (Debian's postgresql package creates it)"
    as_pg=(runuser -u postgres --)
else
    as_pg=()
fi
PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/meshplane-pg.XXXXXX")"
chmod 755 "$PG_TMP"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PG_TMP"
PG_PASSWORD="meshplane-test-$RANDOM$RANDOM"
printf '%s\n' "$PG_PASSWORD" >"$PG_TMP/pwfile"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PG_TMP/pwfile"
PG_PORT="$("$VPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
step "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_TMP)"
"${as_pg[@]}" "$pg_bin/initdb" -D "$PG_TMP/data" -U meshplane --pwfile="$PG_TMP/pwfile" \
    --auth=scram-sha-256 >"$PG_TMP/initdb.log" 2>&1 \
    || die "initdb failed: $(cat "$PG_TMP/initdb.log")"
# A throwaway CA and the server's certificate (for 127.0.0.1 and localhost).
pg_tls="$PG_TMP/tls"
mkdir "$pg_tls"
{
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=meshplane test PostgreSQL CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$pg_tls/ca.key" -out "$pg_tls/ca.crt" &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$pg_tls/server.key" -out "$pg_tls/server.csr" &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$pg_tls/server.ext" &&
    openssl x509 -req -in "$pg_tls/server.csr" -CA "$pg_tls/ca.crt" -CAkey "$pg_tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$pg_tls/server.ext" -out "$pg_tls/server.crt"
} >"$PG_TMP/openssl.log" 2>&1 || die "making the test PostgreSQL's certificate failed: $(cat "$PG_TMP/openssl.log")"
rm -f "$pg_tls/ca.key" "$pg_tls/server.csr"
chmod 600 "$pg_tls/server.key"
chmod 644 "$pg_tls/ca.crt" "$pg_tls/server.crt"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$pg_tls"
cat >>"$PG_TMP/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_TMP'
max_connections = 500
ssl = on
ssl_cert_file = '$pg_tls/server.crt'
ssl_key_file = '$pg_tls/server.key'
CONF
pg_ctl_cmd=("${as_pg[@]}" "$pg_bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log")
"${pg_ctl_cmd[@]}" -w start >/dev/null || die "PostgreSQL did not start: $(cat "$PG_TMP/server.log")"
export MESHPLANE_TEST_POSTGRES_URL="postgres://meshplane:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
export MESHPLANE_TEST_POSTGRES_CTL="${pg_ctl_cmd[*]}"
export MESHPLANE_TEST_POSTGRES_CA="$pg_tls/ca.crt"

postgres_stop() {
    "${pg_ctl_cmd[@]}" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
}
