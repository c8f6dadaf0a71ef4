#!/usr/bin/env bash
# A throwaway Kubernetes API server for custom resources, for the tests
# (sourced by scripts/test.sh after scripts/postgres.sh).
#
# Debian has no kube-apiserver; its unstable suite (sid) has the sources of
# k8s.io/apiextensions-apiserver (a CRD + custom resource server on etcd),
# etcd-server, kubectl and Go. Their .debs are downloaded with a private apt
# configuration under .cache/k8s (nothing is installed), unpacked, and the
# server (scripts/k8s-apiserver/main.go: upstream's server plus the
# discovery, /api and OpenAPI endpoints kubectl needs) is built with Go in
# GOPATH mode. The binaries are cached in .cache/k8s/<key>/bin, the key
# being a digest of the resolved package versions and main.go, so only a
# fresh machine (or a new sid version) pays the build (a few minutes); the
# Go build cache and the unpacked sources are dropped afterwards.
#
# Then etcd and the server start on free loopback ports with a throwaway CA,
# a kubeconfig with a `system:masters` client certificate is written, the App
# Mesh CRDs (deploy/kubernetes/crds/appmesh.k8s.aws.yaml) are applied and
# waited for, and these are exported:
#   MESHPLANE_TEST_KUBECONFIG   the kubeconfig
#   MESHPLANE_TEST_KUBECTL      the kubectl binary
#   MESHPLANE_TEST_K8S_CTL      `CTL stop` / `CTL start` stops or starts the API
#                               server (same port, same etcd): the restart test
# Call k8s_apiserver_stop (test.sh does, from its EXIT trap) to stop both.
# Expects ROOT, VPY and the helpers die/step to be set.

K8S_CACHE="$ROOT/.cache/k8s"
K8S_APT="$K8S_CACHE/apt"
k8s_mirror="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
[ -n "$k8s_mirror" ] || k8s_mirror="http://deb.debian.org/debian"
mkdir -p "$K8S_APT/lists/partial" "$K8S_APT/cache/archives/partial" "$K8S_APT/etc"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $k8s_mirror sid main" >"$K8S_APT/etc/sid.list"
k8s_apt_opts=(-o "Dir::Etc::sourcelist=$K8S_APT/etc/sid.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$K8S_APT/lists" -o "Dir::Cache=$K8S_APT/cache"
    -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
k8s_packages="$ROOT/scripts/k8s-apiserver/packages.txt"

k8s_bin=""
if apt-get -qq "${k8s_apt_opts[@]}" update >"$K8S_CACHE/apt-update.log" 2>&1; then
    # shellcheck disable=SC2046
    apt-cache "${k8s_apt_opts[@]}" show --no-all-versions $(cat "$k8s_packages") 2>/dev/null \
        | awk '/^Package:/ {p = $2} /^Version:/ {print p, $2}' | sort >"$K8S_CACHE/resolved.txt"
    [ "$(wc -l <"$K8S_CACHE/resolved.txt")" -eq "$(wc -l <"$k8s_packages")" ] \
        || die "sid lacks some of scripts/k8s-apiserver/packages.txt: $(join -v1 <(sort "$k8s_packages") <(awk '{print $1}' "$K8S_CACHE/resolved.txt"))"
    k8s_key="$(cat "$K8S_CACHE/resolved.txt" "$ROOT/scripts/k8s-apiserver/main.go" | sha256sum | cut -c1-16)"
    k8s_bin="$K8S_CACHE/$k8s_key/bin"
else
    # Offline: the newest build there is.
    k8s_bin="$(ls -td "$K8S_CACHE"/*/bin 2>/dev/null | head -1)"
    [ -n "$k8s_bin" ] || die "apt-get update of Debian sid failed and nothing is cached: $(tail -3 "$K8S_CACHE/apt-update.log")"
fi

if [ ! -x "$k8s_bin/crd-apiserver" ] || [ ! -x "$k8s_bin/etcd" ] || [ ! -x "$k8s_bin/kubectl" ]; then
    step "building the CRD API server from Debian sid packages (once; cached in ${k8s_bin%/bin})"
    k8s_work="$K8S_CACHE/build.$$"
    rm -rf "$k8s_work"
    mkdir -p "$k8s_work/debs" "$k8s_work/root" "$k8s_work/gopath/src/meshplane.test/crd-apiserver"
    (cd "$k8s_work/debs" && awk '{print $1 "=" $2}' "$K8S_CACHE/resolved.txt" \
        | xargs apt-get -qq "${k8s_apt_opts[@]}" download) >"$k8s_work/download.log" 2>&1 \
        || die "apt-get download of the sid packages failed: $(tail -5 "$k8s_work/download.log")"
    for deb in "$k8s_work"/debs/*.deb; do
        dpkg-deb -x "$deb" "$k8s_work/root" || die "dpkg-deb -x $deb failed"
    done
    cp "$ROOT/scripts/k8s-apiserver/main.go" "$k8s_work/gopath/src/meshplane.test/crd-apiserver/"
    k8s_goroot="$(ls -d "$k8s_work"/root/usr/lib/go-1.* | tail -1)"
    (
        cd "$k8s_work/gopath/src/meshplane.test/crd-apiserver"
        GO111MODULE=off GOTOOLCHAIN=local GOROOT="$k8s_goroot" \
            GOPATH="$k8s_work/gopath:$k8s_work/root/usr/share/gocode" \
            GOCACHE="$k8s_work/gocache" GOFLAGS=-mod=mod \
            nice "$k8s_goroot/bin/go" build -o "$k8s_work/crd-apiserver" .
    ) >"$k8s_work/build.log" 2>&1 || die "go build of the CRD API server failed: $(tail -20 "$k8s_work/build.log")"
    mkdir -p "$k8s_bin"
    cp "$k8s_work/crd-apiserver" "$k8s_work/root/usr/bin/etcd" "$k8s_work/root/usr/bin/kubectl" "$k8s_bin/"
    rm -rf "$k8s_work"
fi

K8S_TMP="$(mktemp -d "${TMPDIR:-/tmp}/meshplane-k8s.XXXXXX")"
free_port() { "$VPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
k8s_etcd_port="$(free_port)"
k8s_peer_port="$(free_port)"
k8s_api_port="$(free_port)"
step "CRD API server on 127.0.0.1:$k8s_api_port, etcd on 127.0.0.1:$k8s_etcd_port ($K8S_TMP)"

# A throwaway CA, the server's certificate and a system:masters client certificate.
(
    cd "$K8S_TMP"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=meshplane-test-k8s-ca" \
        -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.crt
    openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=meshplane-test" \
        -keyout client.key -out client.csr
    # With an extension, so a v3 certificate (rustls refuses v1 ones).
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile client.ext -out client.crt
) >"$K8S_TMP/certs.log" 2>&1 || die "openssl failed: $(cat "$K8S_TMP/certs.log")"
# Authentication and authorization delegate to a server that does not
# exist: only client certificates authenticate, and system:masters is
# always allowed.
cat >"$K8S_TMP/fake.kubeconfig" <<CONF
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: fake, user: {token: fake}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
current-context: fake
CONF
b64() { base64 -w0 "$1"; }
cat >"$K8S_TMP/kubeconfig" <<CONF
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:$k8s_api_port", certificate-authority-data: $(b64 "$K8S_TMP/ca.crt")}}]
users: [{name: test, user: {client-certificate-data: $(b64 "$K8S_TMP/client.crt"), client-key-data: $(b64 "$K8S_TMP/client.key")}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
CONF

"$k8s_bin/etcd" --name default --data-dir "$K8S_TMP/etcd" \
    --listen-client-urls "http://127.0.0.1:$k8s_etcd_port" --advertise-client-urls "http://127.0.0.1:$k8s_etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$k8s_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$k8s_peer_port" \
    --initial-cluster "default=http://127.0.0.1:$k8s_peer_port" >"$K8S_TMP/etcd.log" 2>&1 &
echo $! >"$K8S_TMP/etcd.pid"

# The control script: `start` (waits until /healthz answers) and `stop`.
cat >"$K8S_TMP/ctl" <<CTL
#!/usr/bin/env bash
set -u
case "\${1:-}" in
start)
    "$k8s_bin/crd-apiserver" --etcd-servers "http://127.0.0.1:$k8s_etcd_port" \\
        --bind-address 127.0.0.1 --secure-port $k8s_api_port \\
        --tls-cert-file "$K8S_TMP/server.crt" --tls-private-key-file "$K8S_TMP/server.key" \\
        --client-ca-file "$K8S_TMP/ca.crt" \\
        --authentication-kubeconfig "$K8S_TMP/fake.kubeconfig" --authentication-skip-lookup \\
        --authorization-kubeconfig "$K8S_TMP/fake.kubeconfig" --kubeconfig "$K8S_TMP/fake.kubeconfig" \\
        --enable-priority-and-fairness=false \\
        --disable-admission-plugins NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,MutatingAdmissionPolicy,ValidatingAdmissionPolicy \\
        >>"$K8S_TMP/apiserver.log" 2>&1 &
    echo \$! >"$K8S_TMP/apiserver.pid"
    for _ in \$(seq 1 600); do
        "$k8s_bin/kubectl" --kubeconfig "$K8S_TMP/kubeconfig" get --raw /healthz >/dev/null 2>&1 && exit 0
        kill -0 "\$(cat "$K8S_TMP/apiserver.pid")" 2>/dev/null || { tail -20 "$K8S_TMP/apiserver.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "the CRD API server did not answer /healthz within 60 s" >&2
    exit 1
    ;;
stop)
    pid="\$(cat "$K8S_TMP/apiserver.pid" 2>/dev/null)"
    [ -n "\$pid" ] && kill "\$pid" 2>/dev/null
    for _ in \$(seq 1 100); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "\$pid" 2>/dev/null
    exit 0
    ;;
*) echo "usage: \$0 start|stop" >&2; exit 2 ;;
esac
CTL
chmod +x "$K8S_TMP/ctl"

k8s_apiserver_stop() {
    "$K8S_TMP/ctl" stop >/dev/null 2>&1 || true
    kill "$(cat "$K8S_TMP/etcd.pid" 2>/dev/null)" 2>/dev/null || true
    sleep 0.2
    rm -rf "$K8S_TMP"
}

"$K8S_TMP/ctl" start || { k8s_apiserver_stop; die "the CRD API server did not start (log above)"; }
k8s_kubectl=("$k8s_bin/kubectl" --kubeconfig "$K8S_TMP/kubeconfig")
"${k8s_kubectl[@]}" apply -f "$ROOT/deploy/kubernetes/crds/appmesh.k8s.aws.yaml" >"$K8S_TMP/crds.log" 2>&1 \
    || { k8s_apiserver_stop; die "applying the App Mesh CRDs failed: $(cat "$K8S_TMP/crds.log")"; }
"${k8s_kubectl[@]}" wait --for condition=established --timeout 60s crd --all >>"$K8S_TMP/crds.log" 2>&1 \
    || { k8s_apiserver_stop; die "the App Mesh CRDs were not Established: $(cat "$K8S_TMP/crds.log")"; }
# List and watch may answer 429 for a moment after a CRD is Established.
for kind in meshes virtualnodes virtualservices virtualrouters virtualgateways gatewayroutes backendgroups; do
    for _ in $(seq 1 100); do
        "${k8s_kubectl[@]}" get "$kind.appmesh.k8s.aws" -A >/dev/null 2>&1 && break
        sleep 0.1
    done
done
export MESHPLANE_TEST_KUBECONFIG="$K8S_TMP/kubeconfig"
export MESHPLANE_TEST_KUBECTL="$k8s_bin/kubectl"
export MESHPLANE_TEST_K8S_CTL="$K8S_TMP/ctl"
