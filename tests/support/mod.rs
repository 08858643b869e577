//! What the end-to-end tests share: a real hub with agents, and the real app driven through
//! tauri-driver and WebKitWebDriver on the desktop that `scripts/with-desktop.sh` provides.

#![allow(dead_code)] // Each test file uses its own part of this module.

pub mod bus;
pub mod consult;
pub mod hub_process;
pub mod proxy;
pub mod sign_in;

use std::net::TcpListener;
#[cfg(unix)]
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder, Locator};
use huddle_hub::{accounts, Config, RunningHub};

/// How long any awaited thing may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A real hub on a loopback port with a fresh database.
pub struct Hub {
    pub hub: RunningHub,
    _dir: tempfile::TempDir,
}

/// Creates the hub's database at `database` with the agents given as (login, name, password).
pub async fn provision(
    database: &std::path::Path,
    agents: &[(&str, &str, &str)],
) -> anyhow::Result<()> {
    let db = huddle_hub::store::open(database).await?;
    for (login, name, password) in agents {
        accounts::add(&db.clone().into(), login, name, password).await?;
    }
    db.close().await;
    Ok(())
}

/// `login`'s agent id, as `engine` finds it in the directory.
pub async fn agent_id(engine: &huddle_client::Engine, login: &str) -> anyhow::Result<i64> {
    Ok(engine
        .search(login, Default::default())
        .await?
        .into_iter()
        .find(|e| e.login == login)
        .with_context(|| format!("no {login} in the directory"))?
        .id)
}

impl Hub {
    /// Starts a hub whose agents are given as (login, name, password).
    pub async fn start(agents: &[(&str, &str, &str)]) -> anyhow::Result<Self> {
        Self::start_with(agents, |_| {}).await
    }

    /// Starts a hub with agents and a configuration changed by `tune`.
    pub async fn start_with(
        agents: &[(&str, &str, &str)],
        tune: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let database = dir.path().join("hub.db");
        provision(&database, agents).await?;
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            database,
            ..Config::default()
        };
        tune(&mut config);
        Ok(Self {
            hub: huddle_hub::start(config).await?,
            _dir: dir,
        })
    }

    /// The address an agent types into the login form.
    pub fn address(&self) -> String {
        self.hub.addr.to_string()
    }

    /// An agent's engine signed in to this hub with the password `<login>-password`, its
    /// cache under `data`: a colleague the test plays.
    pub async fn engine(
        &self,
        login: &str,
        data: &std::path::Path,
    ) -> anyhow::Result<huddle_client::Engine> {
        let (engine, _) = huddle_client::Engine::sign_in(
            &self.address(),
            login,
            huddle_client::Credential::Password(format!("{login}-password")),
            data,
        )
        .await?;
        Ok(engine)
    }

    /// Stops the hub: its clients go offline.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.hub.stop().await
    }
}

/// An app's settings, data and cache folders, which can outlive one run of the app.
pub struct Profile(tempfile::TempDir);

impl Profile {
    /// A profile that has never been used.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self(tempfile::tempdir()?))
    }

    /// The folder holding the profile's config, data and cache folders.
    pub fn path(&self) -> &std::path::Path {
        self.0.path()
    }

    /// The environment that points the app at this profile: the XDG folders on Linux;
    /// elsewhere, where no variable moves the system's folders, the app's own override (read
    /// by its debug builds only).
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let home = self.path();
        if cfg!(target_os = "linux") {
            vec![
                ("XDG_CONFIG_HOME", home.join("config")),
                ("XDG_DATA_HOME", home.join("data")),
                ("XDG_CACHE_HOME", home.join("cache")),
            ]
        } else {
            vec![("HUDDLE_PROFILE_DIR", home.join("app"))]
        }
    }

    /// The app's config folder (settings.json) in this profile.
    pub fn config_dir(&self) -> PathBuf {
        if cfg!(target_os = "linux") {
            self.path().join("config/app.huddle.desktop")
        } else {
            self.path().join("app")
        }
    }

    /// The app's data folder (the cache) in this profile.
    pub fn data_dir(&self) -> PathBuf {
        if cfg!(target_os = "linux") {
            self.path().join("data/app.huddle.desktop")
        } else {
            self.path().join("app")
        }
    }

    /// The app's logs folder in this profile.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir().join("logs")
    }
}

/// The real Huddle app, started by tauri-driver and driven over WebDriver.
pub struct App {
    pub client: Client,
    driver: Child,
    _own_profile: Option<Profile>,
    name: String,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tauri_driver() -> PathBuf {
    let installed = dirs_home().join(".cargo/bin/tauri-driver");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

fn dirs_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Where screenshots of the end-to-end runs are kept.
pub fn artifacts_dir() -> PathBuf {
    std::env::var_os("HUDDLE_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts"))
}

impl App {
    /// Starts the app with its own empty settings and data; `name` names its screenshot.
    /// Returns once the login form shows.
    pub async fn start(name: &str) -> anyhow::Result<Self> {
        Self::start_with_env(name, &[]).await
    }

    /// Like [`App::start`], with more environment variables for the app (`GTK_THEME`...).
    pub async fn start_with_env(name: &str, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let profile = Profile::new()?;
        let mut app = Self::launch(&profile, name, env, &[]).await?;
        app._own_profile = Some(profile);
        app.by_test_id("login-hub")
            .await
            .context("the login form did not appear")?;
        Ok(app)
    }

    /// Starts the app on a profile that outlives it (to start it again on the same one).
    /// Returns once the main window has loaded.
    pub async fn start_in(profile: &Profile, name: &str) -> anyhow::Result<Self> {
        Self::launch(profile, name, &[], &[]).await
    }

    /// Like [`App::start_in`], with more environment variables for the app.
    pub async fn start_in_with_env(
        profile: &Profile,
        name: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        Self::launch(profile, name, env, &[]).await
    }

    /// Like [`App::start_in`], with command-line arguments for the app.
    pub async fn start_in_with_args(
        profile: &Profile,
        name: &str,
        args: &[&str],
    ) -> anyhow::Result<Self> {
        Self::launch(profile, name, &[], args).await
    }

    async fn launch(
        profile: &Profile,
        name: &str,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> anyhow::Result<Self> {
        #[cfg(target_os = "linux")]
        if std::env::var_os("DISPLAY").is_none() {
            bail!("no DISPLAY: run the end-to-end tests inside scripts/with-desktop.sh");
        }
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new(tauri_driver());
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .envs(profile.env())
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        // A group of its own, so that its WebKitWebDriver goes with it.
        #[cfg(unix)]
        command.process_group(0);
        let driver = command
            .spawn()
            .context("cannot start tauri-driver (scripts/deps.sh installs it)")?;
        Ok(App {
            client: connect_driver(port, args).await?,
            driver,
            _own_profile: None,
            name: name.to_string(),
        })
    }

    /// Switches the WebDriver to the window with this label (`main`, `im-<session>`), waiting
    /// for it to open.
    pub async fn switch_to(&self, label: &str) -> anyhow::Result<()> {
        self.switch_to_matching(|l| l == label)
            .await
            .map(|_| ())
            .with_context(|| format!("no window {label} opened"))
    }

    /// Switches to the first IM window that opens (or is open), and returns its label.
    pub async fn switch_to_im(&self) -> anyhow::Result<String> {
        self.switch_to_matching(|l| l.starts_with("im-"))
            .await
            .context("no IM window opened")
    }

    async fn switch_to_matching(&self, want: impl Fn(&str) -> bool) -> anyhow::Result<String> {
        let script = "return window.__TAURI_INTERNALS__.metadata.currentWindow.label;";
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            for handle in self.client.windows().await? {
                if self.client.switch_to_window(handle).await.is_err() {
                    continue; // closed meanwhile
                }
                if let Ok(label) = self.client.execute(script, vec![]).await {
                    if let Some(label) = label.as_str().filter(|l| want(l)) {
                        return Ok(label.to_string());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("no such window")
    }

    /// The labels of the app's windows now (the current window changes).
    pub async fn window_labels(&self) -> anyhow::Result<Vec<String>> {
        let script = "return window.__TAURI_INTERNALS__.metadata.currentWindow.label;";
        let mut found = Vec::new();
        for handle in self.client.windows().await? {
            self.client.switch_to_window(handle).await?;
            if let Some(label) = self.client.execute(script, vec![]).await?.as_str() {
                found.push(label.to_string());
            }
        }
        Ok(found)
    }

    /// Clicks the element with this `data-testid`.
    pub async fn click(&self, test_id: &str) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            // A list that re-renders between finding the element and clicking it replaces
            // the node: the click goes to the element that now has the test id.
            match self.by_test_id(test_id).await?.click().await {
                Ok(_) => return Ok(()),
                Err(e)
                    if (e.is_stale_element_reference() || e.is_no_such_element())
                        && start.elapsed() < DEADLINE => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Clicks a button that closes the current window (Done): the WebDriver may lose the
    /// window before it answers the click, so the answer is not waited for; returns once the
    /// window is gone, with the WebDriver switched to the main window.
    pub async fn click_closing(&self, test_id: &str) -> anyhow::Result<()> {
        let label = self
            .eval(
                "return window.__TAURI_INTERNALS__.metadata.currentWindow.label;",
                vec![],
            )
            .await?;
        let script =
            "setTimeout(() => document.querySelector(`[data-testid=${arguments[0]}]`).click(), 0);";
        // The window may close before the WebDriver has read the script's (empty) result, which
        // it then reports as an error: whether the click happened shows in the window closing.
        if let Err(e) = self.eval(script, vec![test_id.into()]).await {
            eprintln!("clicking {test_id} in {label}: {e:#} (the window may have closed first)");
        }
        let label = label.as_str().context("no window label")?.to_string();
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            self.switch_to("main").await?;
            if !self.window_labels().await?.contains(&label) {
                return self.switch_to("main").await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the window {label} did not close")
    }

    /// Types into the element with this `data-testid` (WebDriver key codes allowed, such as
    /// `\u{E007}` for Enter).
    pub async fn type_into(&self, test_id: &str, text: &str) -> anyhow::Result<()> {
        self.by_test_id(test_id).await?.send_keys(text).await?;
        Ok(())
    }

    /// Sends keys to whatever has the keyboard focus.
    pub async fn press(&self, keys: &str) -> anyhow::Result<()> {
        self.client.active_element().await?.send_keys(keys).await?;
        Ok(())
    }

    /// Runs a script in the current window and returns what it returns.
    pub async fn eval(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Runs `script`, which returns a promise, in the current window and waits for it to
    /// settle: `{"resolved": value}` or `{"rejected": "the error"}`.
    pub async fn eval_promise(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        let start = format!(
            "window.__settled = null;
             Promise.resolve((() => {{ {script} }})()).then(
                 (value) => {{ window.__settled = {{ resolved: value ?? null }}; }},
                 (error) => {{ window.__settled = {{ rejected: String(error) }}; }});
             return null;"
        );
        self.eval(&start, vec![]).await?;
        self.eval_when(
            "the promise to settle",
            "return window.__settled;",
            vec![],
            |v| !v.is_null(),
        )
        .await
    }

    /// Waits until `script` (run in the current window) returns a value that `accept` takes,
    /// and returns it.
    pub async fn eval_when(
        &self,
        what: &str,
        script: &str,
        args: Vec<serde_json::Value>,
        accept: impl Fn(&serde_json::Value) -> bool,
    ) -> anyhow::Result<serde_json::Value> {
        let start = Instant::now();
        let mut last = serde_json::Value::Null;
        while start.elapsed() < DEADLINE {
            last = self.client.execute(script, args.clone()).await?;
            if accept(&last) {
                return Ok(last);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.failure_screenshot();
        bail!("{what} never came; last seen: {last}")
    }

    /// Finds a colleague in the Team Communicator by name, opens the action menu of the one
    /// entry with the keyboard and sends an IM; returns with the IM window current.
    pub async fn send_im_from_team_communicator(
        &self,
        login: &str,
        name: &str,
    ) -> anyhow::Result<String> {
        self.fill("tc-search", name).await?;
        self.eval_when(
            "the colleague in the Team Communicator",
            "return [...document.querySelectorAll('[data-testid=tc-entry]')].map(e => e.dataset.login);",
            vec![],
            |logins| logins.as_array().is_some_and(|l| l.len() == 1 && l[0] == login),
        )
        .await?;
        // The keyboard way: down to the entry, Enter opens its action menu.
        self.type_into("tc-search", "\u{E015}").await?; // ArrowDown
        self.type_into("tc-search", "\u{E007}").await?; // Enter
        let action = self.text_when("tc-action-im", |t| !t.is_empty()).await?;
        assert_eq!(action.trim(), format!("Send an Instant Message {name}"));
        self.click("tc-action-im").await?;
        self.switch_to_im().await
    }

    /// Fills the login form and submits it.
    pub async fn sign_in(&self, hub: &str, login: &str, password: &str) -> anyhow::Result<()> {
        self.fill("login-hub", hub).await?;
        self.fill("login-login", login).await?;
        self.fill("login-password", password).await?;
        self.by_test_id("login-submit").await?.click().await?;
        Ok(())
    }

    /// Replaces the text of the field with this `data-testid`.
    pub async fn fill(&self, test_id: &str, text: &str) -> anyhow::Result<()> {
        let field = self.by_test_id(test_id).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Waits for the element with this `data-testid`.
    pub async fn by_test_id(&self, test_id: &str) -> anyhow::Result<fantoccini::elements::Element> {
        let css = format!("[data-testid={test_id}]");
        self.client
            .wait()
            .at_most(DEADLINE)
            .for_element(Locator::Css(&css))
            .await
            .with_context(|| format!("no element {css} appeared"))
    }

    /// Waits until the text of the element with this `data-testid` satisfies `accept`,
    /// and returns that text.
    ///
    /// The text is read in the page (`innerText`): WebKitWebDriver reports elements that
    /// clip their overflow with an ellipsis as not displayed, and their text as empty.
    pub async fn text_when(
        &self,
        test_id: &str,
        accept: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let script = "const e = document.querySelector(`[data-testid=${arguments[0]}]`);\n\
                      return e === null ? null : e.innerText;";
        let start = Instant::now();
        let mut last = None;
        while start.elapsed() < DEADLINE {
            let text = self.client.execute(script, vec![test_id.into()]).await?;
            if let Some(text) = text.as_str() {
                if accept(text) {
                    return Ok(text.to_string());
                }
            }
            last = Some(text);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.failure_screenshot();
        bail!("{test_id} never showed the expected text; last seen: {last:?}")
    }

    fn failure_screenshot(&self) {
        match self.save_screenshot("-failure") {
            Ok(path) => eprintln!("screenshot of the failure: {}", path.display()),
            Err(e) => eprintln!("cannot save a screenshot of the failure: {e:#}"),
        }
    }

    /// Saves a screenshot of the desktop as `<name><suffix>.png` among the artifacts.
    ///
    /// It is taken from the X display: WebKitWebDriver's own screenshot command was seen
    /// to hang after the page had changed views.
    pub fn save_screenshot(&self, suffix: &str) -> anyhow::Result<PathBuf> {
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}{suffix}.png", self.name));
        #[cfg(not(windows))]
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .status()
            .context("cannot run `import` (imagemagick)")?;
        // The whole desktop through .NET, which every Windows has.
        #[cfg(windows)]
        let status = Command::new("powershell")
            .args(["-NoProfile", "-NonInteractive", "-Command"])
            .arg(format!(
                "Add-Type -AssemblyName System.Windows.Forms,System.Drawing; \
                 $b = [System.Windows.Forms.SystemInformation]::VirtualScreen; \
                 $i = New-Object System.Drawing.Bitmap $b.Width, $b.Height; \
                 [System.Drawing.Graphics]::FromImage($i).CopyFromScreen($b.Left, $b.Top, 0, 0, $i.Size); \
                 $i.Save('{}', [System.Drawing.Imaging.ImageFormat]::Png)",
                path.display().to_string().replace('\'', "''")
            ))
            .status()
            .context("cannot run powershell")?;
        if !status.success() {
            bail!("the screenshot failed: {status}");
        }
        Ok(path)
    }

    /// Saves a screenshot of the top-level window titled exactly `title` as
    /// `<name><suffix>.png` among the artifacts.
    pub fn save_window_screenshot(&self, title: &str, suffix: &str) -> anyhow::Result<PathBuf> {
        let out = Command::new("xdotool")
            .args(["search", "--name", &format!("^{title}$")])
            .output()
            .context("cannot run xdotool")?;
        let ids = String::from_utf8_lossy(&out.stdout).to_string();
        // GTK also makes an unmapped leader window with the same title: take the managed one.
        for id in ids.split_whitespace() {
            let state = Command::new("xprop")
                .args(["-id", id, "WM_STATE"])
                .output()?;
            if !String::from_utf8_lossy(&state.stdout).contains("Normal") {
                continue;
            }
            let dir = artifacts_dir();
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("{}{suffix}.png", self.name));
            let status = Command::new("import")
                .args(["-window", id])
                .arg(&path)
                .status()
                .context("cannot run `import` (imagemagick)")?;
            if !status.success() {
                bail!("`import` failed: {status}");
            }
            return Ok(path);
        }
        bail!("no window titled {title:?} is shown")
    }

    /// Saves a screenshot of the window as a test artifact, then ends the app.
    pub async fn finish(self) -> anyhow::Result<()> {
        let shot = self.save_screenshot("");
        self.client.clone().close().await?;
        shot?;
        Ok(())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // tauri-driver leaves its WebDriver (and the app) behind when killed: end the whole
        // group, or tree.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        #[cfg(windows)]
        let _ = Command::new("taskkill")
            .args(["/PID", &self.driver.id().to_string(), "/T", "/F"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.wait();
    }
}

/// The app's binary, as built for these tests.
pub fn app_binary() -> &'static str {
    env!("CARGO_BIN_EXE_huddle")
}

async fn connect_driver(port: u16, args: &[&str]) -> anyhow::Result<Client> {
    let application = app_binary();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": application, "args": args }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Ok(client),
            Err(e) if start.elapsed() > DEADLINE => {
                return Err(e).context("cannot start a WebDriver session with tauri-driver")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// How many WebKit web processes the running app has (its windows' pages run in them).
pub fn web_processes() -> anyhow::Result<usize> {
    let app = std::fs::canonicalize(app_binary())?;
    let mut apps = Vec::new();
    let mut by_parent: std::collections::HashMap<u32, Vec<u32>> = Default::default();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if std::fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe == app) {
            apps.push(pid);
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // The parent is the second field after the parenthesised name.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(parent) = parent {
            by_parent.entry(parent).or_default().push(pid);
        }
    }
    let [app] = apps[..] else {
        bail!("expected one running app, found {}", apps.len());
    };
    let web = by_parent
        .get(&app)
        .into_iter()
        .flatten()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|name| name.starts_with("WebKitWebProces"))
        })
        .count();
    Ok(web)
}

/// A scripted colleague: the real `huddle-agent` binary in bot mode, answering every
/// invitation and message.
pub struct Bot {
    child: Child,
    _data: Option<tempfile::TempDir>,
}

impl Bot {
    /// Starts `login` (password `<login>-password`) as a bot with these extra arguments
    /// (`--reply`, `--script`, delays).
    pub fn start(
        hub: &str,
        login: &str,
        data: &std::path::Path,
        args: &[&str],
    ) -> anyhow::Result<Self> {
        let child = Command::new(huddle_agent()?)
            .args(["--hub", hub, "--login", login, "--data"])
            .arg(data)
            .arg("bot")
            .args(args)
            .env("HUDDLE_PASSWORD", format!("{login}-password"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start huddle-agent")?;
        Ok(Self { child, _data: None })
    }

    /// A bot with a cache of its own that accepts at once and answers every message with
    /// `reply` at once.
    pub fn prompt(hub: &str, login: &str, reply: &str) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let args = [
            "--reply",
            reply,
            "--accept-delay-ms",
            "0",
            "--reply-delay-ms",
            "0",
        ];
        let mut bot = Self::start(hub, login, data.path(), &args)?;
        bot._data = Some(data);
        Ok(bot)
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `huddle-agent` binary, built beside the app's by `cargo test --workspace`.
pub fn huddle_agent() -> anyhow::Result<PathBuf> {
    hub_process::binary("huddle-agent")
}

/// A top-level X window as the window manager sees it.
#[derive(Debug, Clone)]
pub struct XWindow {
    /// The X id.
    pub id: String,
    /// `WM_STATE`: Normal, Iconic (minimized), or Withdrawn (hidden).
    pub wm_state: String,
    /// `_NET_WM_STATE`: the window manager's flags (hidden, demands attention...).
    pub net_state: String,
}

impl XWindow {
    /// Minimized in the taskbar.
    pub fn minimized(&self) -> bool {
        self.wm_state.contains("Iconic") || self.net_state.contains("_NET_WM_STATE_HIDDEN")
    }

    /// Shown on the screen.
    pub fn shown(&self) -> bool {
        self.wm_state.contains("Normal") && !self.net_state.contains("_NET_WM_STATE_HIDDEN")
    }

    /// Asking for the user's attention.
    pub fn demands_attention(&self) -> bool {
        self.net_state.contains("_NET_WM_STATE_DEMANDS_ATTENTION")
    }
}

/// The managed top-level window titled exactly `title`, if one is mapped or minimized.
pub fn x_window(title: &str) -> anyhow::Result<Option<XWindow>> {
    let out = Command::new("xdotool")
        .args(["search", "--name", &format!("^{title}$")])
        .output()
        .context("cannot run xdotool")?;
    for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let prop = |name: &str| -> anyhow::Result<String> {
            let out = Command::new("xprop").args(["-id", id, name]).output()?;
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        let wm_state = prop("WM_STATE")?;
        // GTK's unmapped leader window has the same title and no WM_STATE.
        if wm_state.contains("Normal") || wm_state.contains("Iconic") {
            return Ok(Some(XWindow {
                id: id.to_string(),
                wm_state,
                net_state: prop("_NET_WM_STATE")?,
            }));
        }
    }
    Ok(None)
}

/// Waits until the window titled `title` satisfies `want` (`None`: not shown at all).
pub async fn x_window_when(
    title: &str,
    what: &str,
    want: impl Fn(Option<&XWindow>) -> bool,
) -> anyhow::Result<Option<XWindow>> {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < DEADLINE {
        last = x_window(title)?;
        if want(last.as_ref()) {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the window {title:?} never became {what}; last: {last:?}")
}

/// The title of the window that has the keyboard focus.
pub fn active_window_title() -> anyhow::Result<String> {
    let out = Command::new("xdotool")
        .args(["getactivewindow", "getwindowname"])
        .output()
        .context("cannot run xdotool")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
