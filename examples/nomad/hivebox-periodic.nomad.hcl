# UNTESTED HERE: this machine runs no Nomad agent and no container
# runtime, so this job has never run.  It is what hivebox needs from a
# task, written down; check it on your cluster before you trust it.
#
# A Nomad periodic batch job whose task runs a job under hivebox in a
# Docker container.  hivebox runs unprivileged (user 1000): it maps the
# caller's uid to itself, allows network mode = none only, and keeps its
# audit trail in $XDG_STATE_HOME/hivebox, on the host volume below.
# What the task must allow, and why (see also
# kubernetes/hivebox-cronjob.yaml):
#   - the client nodes' kernel must allow unprivileged user namespaces;
#   - seccomp=unconfined: Docker's default profile refuses unshare/clone
#     with namespace flags; hivebox installs its own filter on the script;
#   - apparmor=unconfined: docker-default refuses mount;
#   - systempaths=unconfined: a new /proc cannot be mounted in a user
#     namespace while the container's /proc has masked paths.
# Running hivebox as root (host_uid = auto, filtered networks) needs
# privileged = true instead, which the client must allow.
job "tally" {
  type        = "batch"
  datacenters = ["dc1"]

  periodic {
    crons            = ["0 2 * * *"]
    prohibit_overlap = true
    time_zone        = "UTC"
  }

  group "tally" {
    count = 1

    restart {
      attempts = 0
      mode     = "fail"
    }

    volume "tally-state" {
      type   = "host"
      source = "tally-state"
    }

    task "tally" {
      driver = "docker"
      user   = "1000"

      config {
        image       = "registry.example.org/hivebox-jobs:0.1"
        work_dir    = "/srv/gov"
        command     = "/usr/bin/hivebox"
        args        = ["--quiet", "--policy", "/etc/hivebox/policies/tally.ini",
                       "--result", "/state/last.json", "tally.py"]
        security_opt = ["seccomp=unconfined", "apparmor=unconfined",
                        "systempaths=unconfined"]
      }

      env {
        XDG_STATE_HOME = "/state"
      }

      volume_mount {
        volume      = "tally-state"
        destination = "/state"
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
