// Mycel miner and validator under pm2. Edit the NETUID, PUBLIC_IP and wallet names below (or
// export them before `pm2 start`), then:
//   pm2 start deploy/pm2/ecosystem.config.js --only mycel-miner      (or mycel-validator)
//   pm2 save && pm2 startup
// Run from the checkout's root (bash scripts/setup.sh made .venv there). Secrets
// (WANDB_API_KEY, MYCEL_NEAR__PRIVATE_KEY, ANTHROPIC_API_KEY) come from the shell environment
// pm2 is started from, never from this file.
// pm2 stops a process with SIGINT: the miner drains in-flight requests, the validator finishes
// its running step; kill_timeout gives them the time before pm2 sends SIGKILL. Exit codes 2
// (bad config), 3 (not registered) and 5 (hotkey already in use) do not fix themselves.
// The open-file limit is pm2's own (raise it for the pm2 daemon: `ulimit -n 65536` before
// `pm2 start`, or LimitNOFILE in the pm2-<user> unit that `pm2 startup` writes).
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const NETUID = process.env.MYCEL_NETUID || "<NETUID>";
const NETWORK = process.env.MYCEL_NETWORK || "finney";

module.exports = {
  apps: [
    {
      name: "mycel-miner",
      script: path.join(ROOT, ".venv", "bin", "mycel-miner"),
      interpreter: "none",
      cwd: ROOT,
      args: [
        "--subtensor.network", NETWORK, "--netuid", NETUID,
        "--wallet.name", process.env.MYCEL_WALLET || "miner",
        "--wallet.hotkey", process.env.MYCEL_HOTKEY || "default",
        "--axon.port", "8091", "--axon.external_ip", process.env.MYCEL_PUBLIC_IP || "<PUBLIC_IP>",
        "--miner.engine", "llm", "--miner.metrics_port", "9101", "--logging.json_logs",
      ],
      env: { HF_HUB_OFFLINE: "1", MYCEL_MODEL__DEVICE: "cuda" },
      autorestart: true,
      restart_delay: 10000,
      kill_timeout: 140000,
      stop_exit_codes: [0, 2, 3, 5],
      merge_logs: true,
      time: true,
    },
    {
      name: "mycel-validator",
      script: path.join(ROOT, ".venv", "bin", "mycel-validator"),
      interpreter: "none",
      cwd: ROOT,
      args: [
        "--subtensor.network", NETWORK, "--netuid", NETUID,
        "--wallet.name", process.env.MYCEL_WALLET || "validator",
        "--wallet.hotkey", process.env.MYCEL_HOTKEY || "default",
        "--validator.state_dir", "~/.mycel/validator",
        "--validator.metrics_port", "9102", "--wandb.mode", "offline", "--logging.json_logs",
      ],
      env: { HF_HUB_OFFLINE: "1" },
      autorestart: true,
      restart_delay: 10000,
      kill_timeout: 300000,
      stop_exit_codes: [0, 2, 3, 5],
      merge_logs: true,
      time: true,
    },
  ],
};
