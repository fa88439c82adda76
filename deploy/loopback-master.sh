# Sourced by bin/sparse-transfer and deploy/spark-submit.sh: binds the driver to 127.0.0.1 (unless
# SPARK_LOCAL_IP is set) only when the master runs everything on this machine. A driver on YARN,
# Kubernetes or a remote standalone master must advertise an address its executors can reach.
bind_loopback_if_local_master() {
  case "$1" in
    local | local\[* | local-cluster\[* | spark://127.* | spark://localhost:* | spark://localhost)
      export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}" ;;
  esac
}
