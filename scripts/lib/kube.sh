# Runs a real Kubernetes control plane on loopback for tests: etcd, the API server and
# the controller manager built by scripts/kube-apiserver, with a CA and a certificate
# for 127.0.0.1 made by openssl, a static admin token, and a service-account key pair.
# There is no scheduler or kubelet: pods stay Pending unless a test plays the kubelet.
# Services get cluster IPs from 127.64.0.0/16, a loopback range: a test playing the
# kubelet publishes a Service's ports on its cluster IP, where this machine reaches it.
#
#   source scripts/lib/kube.sh
#   start_kube DIR    # everything under DIR; exports KUBECONFIG=DIR/kubeconfig
#   stop_kube DIR
#
# Needs free loopback ports (picked at random) and, once, root to build and install.

# A free TCP port on 127.0.0.1.
kube_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `$1` (a command) succeeds, for at most `$2` seconds.
kube_wait() {
  local tries=$(($2 * 5))
  until eval "$1" >/dev/null 2>&1; do
    tries=$((tries - 1))
    if [ "$tries" -le 0 ]; then
      return 1
    fi
    sleep 0.2
  done
}

start_kube() {
  local dir=$1
  local bin
  bin=$("$(dirname "${BASH_SOURCE[0]}")/../kube-apiserver")
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)

  # Credentials: a CA, the API server's certificate, an admin token, the
  # service-account signing keys.
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
      -subj /CN=anytrade-test-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj /CN=kube-apiserver 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:127.64.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out apiserver.crt -days 30 -extfile apiserver.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    python3 -c 'import secrets; print(secrets.token_hex(24))' >token
    printf '%s,admin,admin,"system:masters"\n' "$(cat token)" >tokens.csv
    chmod 600 ca.key apiserver.key sa.key token tokens.csv
  )

  local etcd_port etcd_peer api_port
  etcd_port=$(kube_free_port)
  etcd_peer=$(kube_free_port)
  api_port=$(kube_free_port)
  etcd --name anytrade-test --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "anytrade-test=http://127.0.0.1:$etcd_peer" \
    >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  kube_wait "curl -sf http://127.0.0.1:$etcd_port/health" 30 ||
    { echo "etcd did not start: $dir/etcd.log" >&2; return 1; }

  "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --secure-port "$api_port" --insecure-port 0 \
    --advertise-address 127.0.0.1 \
    --tls-cert-file "$dir/apiserver.crt" --tls-private-key-file "$dir/apiserver.key" \
    --client-ca-file "$dir/ca.crt" \
    --token-auth-file "$dir/tokens.csv" \
    --authorization-mode RBAC \
    --service-account-key-file "$dir/sa.pub" \
    --service-account-signing-key-file "$dir/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range 127.64.0.0/16 \
    --allow-privileged=true \
    >"$dir/apiserver.log" 2>&1 &
  echo $! >"$dir/apiserver.pid"
  local token
  token=$(cat "$dir/token")
  kube_wait "curl -sf --cacert '$dir/ca.crt' -H 'Authorization: Bearer $token' https://127.0.0.1:$api_port/readyz" 60 ||
    { echo "the API server did not start: $dir/apiserver.log" >&2; return 1; }

  (umask 077 && : >"$dir/kubeconfig")
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: anytrade-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$dir/ca.crt")
users:
- name: admin
  user:
    token: $token
contexts:
- name: anytrade-test
  context:
    cluster: anytrade-test
    user: admin
current-context: anytrade-test
EOF
  chmod 600 "$dir/kubeconfig"

  # Deployments become ReplicaSets and Pods, owners' deletions cascade, and namespaces
  # get their default service account. Not the node lifecycle controller: no kubelet
  # sends heartbeats, and it would evict every pod of a test's fake node.
  "$bin/kube-controller-manager" \
    --kubeconfig "$dir/kubeconfig" \
    --controllers '*,-nodelifecycle' \
    --service-account-private-key-file "$dir/sa.key" \
    --root-ca-file "$dir/ca.crt" \
    --leader-elect=false --port 0 --secure-port 0 \
    >"$dir/controller-manager.log" 2>&1 &
  echo $! >"$dir/controller-manager.pid"
  export KUBECONFIG=$dir/kubeconfig
  echo "Kubernetes API server at https://127.0.0.1:$api_port (KUBECONFIG=$KUBECONFIG)" >&2
}

stop_kube() {
  local dir=$1 name
  for name in controller-manager apiserver etcd; do
    if [ -f "$dir/$name.pid" ]; then
      kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}
