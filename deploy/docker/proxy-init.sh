#!/bin/sh
# App Mesh's traffic redirection for a pod or host network namespace, as App
# Mesh's proxy-route manager (Kubernetes init container) and ECS's APPMESH
# proxyConfiguration set it up. Needs CAP_NET_ADMIN (run as root).
#
#   APPMESH_IGNORE_UID            1337            egress of this UID (the Envoy) is not redirected
#   APPMESH_ENVOY_INGRESS_PORT    15000
#   APPMESH_ENVOY_EGRESS_PORT     15001
#   APPMESH_APP_PORTS             (none)          comma-separated ports redirected to the ingress port
#   APPMESH_EGRESS_IGNORED_IP     169.254.169.254,169.254.170.2
#   APPMESH_EGRESS_IGNORED_PORTS  (none)          22 is always ignored
set -eu

uid="${APPMESH_IGNORE_UID:-1337}"
ingress="${APPMESH_ENVOY_INGRESS_PORT:-15000}"
egress="${APPMESH_ENVOY_EGRESS_PORT:-15001}"
app_ports="${APPMESH_APP_PORTS:-}"
ignored_ips="${APPMESH_EGRESS_IGNORED_IP:-169.254.169.254,169.254.170.2}"
ignored_ports="22${APPMESH_EGRESS_IGNORED_PORTS:+,$APPMESH_EGRESS_IGNORED_PORTS}"

ipt() { echo "iptables $*"; iptables "$@"; }

ipt -t nat -N APPMESH_EGRESS
ipt -t nat -A APPMESH_EGRESS -m owner --uid-owner "$uid" -j RETURN
ipt -t nat -A APPMESH_EGRESS -p tcp -m multiport --dports "$ignored_ports" -j RETURN
for ip in $(echo "$ignored_ips" | tr ',' ' '); do
    ipt -t nat -A APPMESH_EGRESS -p tcp -d "$ip" -j RETURN
done
ipt -t nat -A APPMESH_EGRESS -p tcp -j REDIRECT --to "$egress"
ipt -t nat -A OUTPUT -p tcp -m addrtype ! --dst-type LOCAL -j APPMESH_EGRESS

if [ -n "$app_ports" ]; then
    ipt -t nat -N APPMESH_INGRESS
    ipt -t nat -A APPMESH_INGRESS -p tcp -m multiport --dports "$app_ports" -j REDIRECT --to-port "$ingress"
    ipt -t nat -A PREROUTING -p tcp -m addrtype ! --src-type LOCAL -j APPMESH_INGRESS
fi
