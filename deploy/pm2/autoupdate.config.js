// Opt-in auto-updater under pm2 (a separate file so `pm2 start ecosystem.config.js` never starts
// it by accident). Every 30 minutes it fast-forwards the checkout, reinstalls, runs the tests
// that matter and restarts the neurons only when [tool.mycel] spec_version changed:
//   pm2 start deploy/pm2/autoupdate.config.js && pm2 save
// Name only the neurons this host runs in --restart-cmd.
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");

module.exports = {
  apps: [
    {
      name: "mycel-autoupdate",
      script: path.join(ROOT, "scripts", "auto_update.sh"),
      interpreter: "bash",
      cwd: ROOT,
      args: ["--repo", ROOT, "--restart-cmd", "pm2 restart mycel-validator mycel-miner"],
      autorestart: false,
      cron_restart: "*/30 * * * *",
    },
  ],
};
