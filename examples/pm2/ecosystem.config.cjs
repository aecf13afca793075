// Two instances in cluster mode; `pm2 reload all` replaces them one by one,
// each new one counted online when it sends 'ready' (wait_ready).
module.exports = {
  apps: [
    {
      name: 'app',
      script: '/app/app.js',
      exec_mode: 'cluster',
      instances: 2,
      wait_ready: true,
      listen_timeout: 10000,
      kill_timeout: 10000,
    },
  ],
};
