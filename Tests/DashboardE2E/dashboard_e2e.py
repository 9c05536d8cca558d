"""End-to-end test of the web dashboard in headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium). It starts the built `testbed serve` on port 0 with its own data directory and
walks the pilot flow a person would: sign in, make a workspace, upload a real CSV, train, open the
model, predict, vary one input, score a file, browse the demonstrations, sign out. Every number the
page shows is compared with what the API answers for the same request, screenshots of each page are
saved, and any error in the browser console fails the test.

    python dashboard_e2e.py [--testbed .build/release/testbed] [--screenshots DIR]
"""
import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "datasets" / "Servo.csv"
TARGET = "Class"


class Failure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def close(shown, expected, relative=1e-3):
    return abs(shown - expected) <= relative * max(abs(expected), 1e-9)


def first_number(text):
    match = re.search(r"[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)
    check(match, f"no number in {text!r}")
    return float(match.group(0).replace("−", "-"))


class Server:
    """`testbed serve` on a free port with a fresh data directory."""

    def __init__(self, executable, models):
        self.data = tempfile.mkdtemp(prefix="testbed-e2e-")
        self.admin_key = f"tb_{secrets.token_hex(8)}_{secrets.token_hex(32)}"
        env = dict(os.environ, TESTBED_ADMIN_KEY=self.admin_key)
        self.process = subprocess.Popen(
            # Monitoring windows of 50 rows, counted from 20: a test's few hundred predictions close several.
            [executable, "serve", "--port", "0", "--data-dir", self.data, "--models-dir", str(models),
             "--monitoring-window-rows", "50", "--drift-min-rows", "20"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
        deadline = time.time() + 60
        self.url = None
        while time.time() < deadline and self.url is None:
            line = self.process.stderr.readline()
            if not line:
                raise Failure(f"testbed serve exited before listening (code {self.process.poll()})")
            match = re.search(r'"listening on (http://[^"]+)"', line)
            if match:
                self.url = match.group(1)
        check(self.url, "testbed serve did not say where it listens within 60 s")
        self.log = open(Path(self.data) / "server.log", "w")
        # Keep draining the server's log so that it never blocks on a full pipe.
        import threading
        threading.Thread(target=lambda: shutil.copyfileobj(self.process.stderr, self.log), daemon=True).start()

    def call(self, method, path, key, body=None, content_type="application/json", accept="application/json"):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {key}", "Content-Type": content_type, "Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = response.read()
                return response.status, (json.loads(payload) if accept == "application/json" else payload.decode())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def fetch_bytes(self, path, key):
        """A GET whose answer is a file: its bytes and headers."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read(), response.headers

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.data, ignore_errors=True)


class Browser:
    def __init__(self, screenshots, width, height):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        self.driver = webdriver.Chrome(service=Service(driver_path), options=options)
        self.wait = WebDriverWait(self.driver, 30)
        self.screenshots = Path(screenshots)
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self.console = []

    def find(self, selector):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def all(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def find_all_visible(self, selector):
        return [element for element in self.all(selector) if element.is_displayed()]

    def text(self, selector):
        return self.find(selector).text

    def go(self, url):
        self.driver.get(url)

    def shot(self, name):
        # The whole page, not only the window: long pages are what people scroll through.
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        width = self.driver.get_window_size()["width"]
        self.driver.set_window_size(width, max(height + 120, 700))
        self.driver.save_screenshot(str(self.screenshots / f"{name}.png"))
        self.driver.set_window_size(width, 900)

    def console_errors(self, allow_network=False):
        """Console entries at level SEVERE since the last call; network ones only when allowed."""
        entries = self.driver.get_log("browser")
        self.console.extend(entries)
        return [entry for entry in entries if entry["level"] == "SEVERE"
                and not (allow_network and entry.get("source") == "network")]

    def quit(self):
        self.driver.quit()


def step(browser, name, action, allow_network=False):
    print(f"· {name}", flush=True)
    action()
    errors = browser.console_errors(allow_network=allow_network)
    check(not errors, f"JavaScript console errors during '{name}': {json.dumps(errors, indent=1)}")


def run(arguments):
    server = Server(arguments.testbed, ROOT / "models")
    browser = Browser(arguments.screenshots, 1366, 900)
    state = {}
    b = browser
    try:
        def sign_in_as_admin():
            b.go(server.url + "/")
            b.find("#api-key").send_keys(server.admin_key, Keys.ENTER)
            b.find("#tenant-id")

        def wrong_key_is_refused():
            b.driver.execute_script("sessionStorage.clear()")
            b.go(server.url + "/")
            b.find("#api-key").send_keys("tb_0000000000000000_" + "0" * 64, Keys.ENTER)
            shown = b.text("#error .message")
            status, body = server.call("GET", "/api/v1/me", "tb_0000000000000000_" + "0" * 64)
            check(status == 401 and shown == body["error"], f"the banner says {shown!r}; the API said {status} {body}")
            b.find("#api-key").clear()

        def create_workspace():
            b.find("#api-key").send_keys(server.admin_key, Keys.ENTER)
            b.find("#tenant-id").send_keys("e2e-sawmill")
            b.find("#tenant-name").send_keys("Sawmill North (browser test)")
            b.find("#tenant-create").click()
            state["key"] = b.text("#issued-api-key")
            check(state["key"].startswith("tb_"), f"no key shown: {state['key']!r}")
            b.shot("01-workspaces")
            b.find("#sign-in-as").click()
            b.find("#upload-file")
            check("e2e-sawmill" in b.text("#nav") or "Sawmill North" in b.text("#nav"), "the header does not name the workspace")

        def bad_upload_shows_the_api_error():
            empty = Path(server.data) / "only-a-header.csv"
            empty.write_text("a,b,c\n")
            b.find("#upload-file").send_keys(str(empty))
            b.find("#upload-form button[type=submit]").click()
            shown = b.text("#error .message")
            status, body = server.call("POST", "/api/v1/datasets?name=check", state["key"], empty.read_bytes(), content_type="text/csv")
            check(status >= 400 and shown == body["error"], f"the banner says {shown!r}; the API said {status} {body}")
            status, listed = server.call("GET", "/api/v1/datasets", state["key"])
            check(listed == [], f"a refused upload left a dataset behind: {listed}")

        def drag_and_drop_picks_the_file():
            b.driver.execute_script("""
                const file = new File(['a,b\\n1,2\\n'], 'line 7 (export).csv', {type: 'text/csv'});
                const transfer = new DataTransfer();
                transfer.items.add(file);
                document.querySelector('.drop').dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
            """)
            check(b.find("#upload-name").get_attribute("value") == "line-7-export-", "a dropped file does not fill in the name")
            check(b.find("#upload-form button[type=submit]").is_enabled(), "a dropped file does not enable the upload")
            check(b.driver.execute_script("return document.querySelector('#upload-file').files[0].name") == "line 7 (export).csv",
                  "the dropped file is not the one to upload")

        def upload():
            b.find("#upload-file").send_keys(str(DATASET))
            check(b.find("#upload-name").get_attribute("value") == "Servo", "the name is not taken from the file name")
            b.find("#upload-form button[type=submit]").click()
            b.find("#profile-table")
            status, datasets = server.call("GET", "/api/v1/datasets", state["key"])
            check(len(datasets) == 1, f"expected one dataset, the API lists {datasets}")
            state["dataset"] = datasets[0]
            rows = b.all("#profile-table tbody tr")
            check(len(rows) == datasets[0]["columns"], f"{len(rows)} profile rows for {datasets[0]['columns']} columns")
            check(f"{datasets[0]['rows']} rows" in b.text("main .lead"), "the row count shown differs from the API's")
            check(len(b.all("#profile-table svg.spark")) == datasets[0]["columns"], "not every column has a distribution chart")
            b.shot("02-dataset-profile")

        def train():
            Select(b.find("#train-target")).select_by_value(TARGET)
            check(Select(b.find("#train-task")).first_selected_option.get_attribute("value") == "regression",
                  "the task inferred for Class is not regression")
            check("Inferred: random folds" in b.text("#split-inferred"), f"the split shown is {b.text('#split-inferred')!r}")
            b.find("#algorithms-chosen").click()
            for name in ["ridge", "gbdt"]:
                b.find(f"#algorithm-boxes input[value={name}]").click()
            budget = b.find("#train-budget")
            budget.clear()
            budget.send_keys("120")
            b.find("#train-start").click()
            b.find("#job-progress")
            try:
                WebDriverWait(b.driver, 300).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#open-model")))
            except TimeoutException:
                raise Failure(f"training did not finish in 300 s; the page says {b.text('#job-state')!r}, {b.text('#job-message')!r}")
            check(float(b.find("#job-progress").get_attribute("value")) == 1.0, "the progress bar did not reach the end")
            status, jobs = server.call("GET", "/api/v1/jobs", state["key"])
            job = jobs[0]
            check(job["state"] == "succeeded", f"the API says the job is {job['state']}")
            shown = len(b.all("#job-leaderboard tbody tr"))
            check(shown == len(job["leaderboard"]), f"{shown} leaderboard rows shown, the API has {len(job['leaderboard'])}")
            state["model"], state["job"] = job["model"], job["id"]
            b.shot("03-training")

        def cancel_training():
            status, dataset = server.call("POST", "/api/v1/datasets?name=satellite", state["key"],
                                          (ROOT / "datasets" / "Satellite.csv").read_bytes(), content_type="text/csv")
            check(status == 201, f"uploading Satellite.csv: {status} {dataset}")
            b.go(server.url + f"/#/datasets/{dataset['id']}")
            Select(b.find("#train-target")).select_by_value("classes")
            b.find("#train-start").click()
            b.find("#job-cancel").click()
            WebDriverWait(b.driver, 60).until(lambda d: "Cancelled" in d.find_element(By.CSS_SELECTOR, "#job-state").text)
            check(not b.find_all_visible("#job-cancel"), "the cancel button stays after cancelling")
            status, jobs = server.call("GET", "/api/v1/jobs", state["key"])
            check(jobs[0]["state"] == "cancelled", f"the API says the job is {jobs[0]['state']}")

        def model_page():
            b.go(server.url + f"/#/jobs/{state['job']}")
            b.find("#open-model").click()
            summary = b.text("#model-summary")
            status, card = server.call("GET", f"/api/v1/models/{state['model']}", state["key"])
            state["card"] = card
            rmse = card["metrics"]["rmse"]["mean"]
            shown = first_number(summary.split("Typical error ±")[1])
            check(close(shown, rmse), f"the page says a typical error of {shown}, the API's RMSE is {rmse}")
            check(TARGET in summary, "the summary does not name what is predicted")
            dots = len(b.all("svg.chart circle.dot"))
            check(dots == len(card["predicted_vs_actual"]), f"{dots} dots for {len(card['predicted_vs_actual'])} out-of-fold points")
            check(len(b.all("svg.chart rect.bar")) == min(15, len(card["importance"])), "importance bars missing")
            checked = b.text("#model-validation")
            check("Random folds" in checked and card["validation"]["scheme"] == "random", f"the validation shown is {checked!r}")
            half = card["conformal"]["half_width"]
            check(close(first_number(checked.split("prediction ±")[1]), half), f"the range shown is {checked!r}, the API's half width {half}")
            b.shot("04-model")

        def download_onnx():
            # Chromium saves downloads where the test can see them.
            downloads = Path(tempfile.mkdtemp(prefix="testbed-e2e-downloads-"))
            b.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
            # auto may have saved an ensemble, which has no ONNX export: its page offers none, and
            # the download is then tried on a demonstration model.
            name, card = state["model"], state["card"]
            if "onnx" not in card["exports"]:
                check(card.get("ensemble"), f"{name} has no ONNX export and is not an ensemble")
                b.go(server.url + f"/#/models/{name}")
                b.find("#model-summary")
                check(not b.find_all_visible("#download-onnx"), "an ensemble's page offers an ONNX download")
                name = "servo-rise-time"
                status, card = server.call("GET", f"/api/v1/models/{name}", state["key"])
                check(status == 200 and "onnx" in card["exports"], f"the demonstration model {name}: {status}")
            b.go(server.url + f"/#/models/{name}")
            b.find("#download-onnx").click()
            expected_name = f"{name}-v{card['version']}.onnx"
            deadline = time.time() + 30
            while time.time() < deadline and not (downloads / expected_name).exists():
                time.sleep(0.2)
            check((downloads / expected_name).exists(), f"no {expected_name} was saved; found {sorted(p.name for p in downloads.iterdir())}")
            time.sleep(0.5)  # let Chromium finish writing and rename its partial file
            saved = (downloads / expected_name).read_bytes()
            link = card["exports"]["onnx"]
            served, headers = server.fetch_bytes(link, state["key"])
            check(saved == served, f"the saved file ({len(saved)} bytes) differs from {link} ({len(served)} bytes)")
            check(saved[:2] == b"\x08\x0a" and b"predict" in saved, "the saved file is not an ONNX model")
            check(headers["Content-Disposition"] == f'attachment; filename="{expected_name}"', f"Content-Disposition: {headers['Content-Disposition']}")
            shutil.rmtree(downloads, ignore_errors=True)
            if name != state["model"]:
                # Back to the trained model, whose page the next steps try.
                b.go(server.url + f"/#/models/{state['model']}")
                WebDriverWait(b.driver, 10).until(lambda d: d.find_element(By.ID, "try-link").get_attribute("href").endswith(f"/models/{state['model']}/try"))

        def try_it():
            b.find("#try-link").click()
            value = b.find("#prediction-value")
            row = read_form(b, state["card"])
            status, answer = server.call("POST", f"/api/v1/models/{state['model']}/predict", state["key"],
                                         {"rows": [row], "explain": True, "top": len(state["card"]["features"])})
            expected = answer["predictions"][0]
            check(float(value.get_attribute("data-value")) == expected["prediction"],
                  f"the page predicts {value.get_attribute('data-value')}, the API {expected['prediction']} for {row}")
            check(close(first_number(value.text), expected["prediction"]), f"shown {value.text!r} for {expected['prediction']}")
            bars = len(b.all("#answer svg.chart rect.bar"))
            check(bars == len(expected["contributions"]), f"{bars} contribution bars for {len(expected['contributions'])} contributions")
            final = first_number(b.text("#contribution-note").split("move it to")[1])
            check(close(final, expected["prediction"]), f"the contributions add up to {final} on the page, the prediction is {expected['prediction']}")
            interval = b.find("#prediction-interval")
            low, high = float(interval.get_attribute("data-low")), float(interval.get_attribute("data-high"))
            check([low, high] == expected["interval"], f"the page's range is {low} to {high}, the API's {expected['interval']}")
            check("in 9 cases out of 10" in interval.text, f"the range reads {interval.text!r}")
            b.find("#whatif-chart svg")
            state["before"] = value.get_attribute("data-value")

        def what_if():
            feature = next(f["name"] for f in state["card"]["features"] if not f.get("categories"))
            Select(b.find("#whatif-feature")).select_by_value(feature)
            WebDriverWait(b.driver, 10).until(lambda d: feature in d.find_element(By.CSS_SELECTOR, "label[for=whatif-slider]").text)
            slider = b.find("#whatif-slider")
            slider.send_keys(Keys.END)
            WebDriverWait(b.driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#prediction-value").get_attribute("data-value") != state["before"])
            row = read_form(b, state["card"])
            check(close(float(row[feature]), float(slider.get_attribute("max"))), f"the slider did not move {feature} to the end of its range: {row}")
            status, answer = server.call("POST", f"/api/v1/models/{state['model']}/predict", state["key"], {"rows": [row]})
            shown = float(b.find("#prediction-value").get_attribute("data-value"))
            check(shown == answer["predictions"][0]["prediction"], f"after the slider the page says {shown}, the API {answer['predictions'][0]['prediction']}")
            check(len(b.all("#whatif-chart circle.marker")) == 1, "the what-if curve has no marker for the current value")
            check(len(b.all("#whatif-chart polygon.band")) == 1, "the what-if curve has no band for its prediction range")
            b.shot("05-try")

        def batch():
            b.find("#batch-file").send_keys(str(DATASET))
            b.find("#batch-score").click()
            b.find("#batch-download")
            status, csv = server.call("POST", f"/api/v1/models/{state['model']}/predict", state["key"], DATASET.read_bytes(),
                                      content_type="text/csv", accept="text/csv")
            lines = csv.strip().split("\n")
            check(f"{len(lines) - 1} rows scored" in b.text("#batch-result"), f"the page does not say {len(lines) - 1} rows were scored")
            first_cell = b.find("#batch-result tbody tr td").text
            check(first_cell == lines[1].split(",")[0], f"first prediction shown {first_cell!r}, the API's CSV has {lines[1]!r}")

        def gallery():
            b.go(server.url + "/#/gallery")
            b.find(".gallery article")
            status, models = server.call("GET", "/api/v1/models", state["key"])
            demos = [model for model in models if model["demonstration"]]
            check(len(b.all(".gallery article")) == len(demos), "the gallery does not show every demonstration model")
            b.shot("06-gallery")
            b.go(server.url + "/#/models/glass-type")
            b.find("table.confusion")
            status, card = server.call("GET", "/api/v1/models/glass-type", state["key"])
            cells = [int(cell.text) for cell in b.all("table.confusion tbody td")]
            check(cells == [count for row in card["confusion_matrix"] for count in row], "the confusion matrix differs from the API's")
            accuracy = first_number(b.text("#model-summary").split("Right in")[1]) / 100
            check(abs(accuracy - card["metrics"]["accuracy"]["mean"]) <= 0.005, f"accuracy shown {accuracy}, API {card['metrics']['accuracy']['mean']}")
            b.shot("07-model-classification")
            # The log: validated in time order, with both figures and the warning on its page.
            b.go(server.url + "/#/models/rail-ridership")
            b.find("#model-warnings")
            status, card = server.call("GET", "/api/v1/models/rail-ridership", state["key"])
            check("In time order" in b.text("#model-validation") and card["validation"]["scheme"] == "time", "the log's page does not say it was tested in time order")
            check("random folds: rmse" in b.text("#model-warnings"), f"the log's warnings read {b.text('#model-warnings')!r}")
            check("later rows than it learned from" in b.text("#model-summary"), f"the log's summary reads {b.text('#model-summary')!r}")
            b.shot("07b-model-log")
            # Trying it: a date in the form, the answer's range, and the what-if over the date (the
            # input it relies on most) with each day's range as a whisker.
            b.go(server.url + "/#/models/rail-ridership/try")
            b.find("#prediction-interval")
            check(b.find("#feature-date").get_attribute("type") == "text", "the date is not a text field")
            check(Select(b.find("#whatif-feature")).first_selected_option.get_attribute("value") == "date", "the what-if does not start with the date")
            WebDriverWait(b.driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#whatif-chart line.whisker")) == 21)
            check(len(b.all("#whatif-chart rect.bar.marker")) == 1, "the what-if over the date does not mark the row's own day")
            check(b.find("#feature-date").get_attribute("value").startswith("2016-08-28"), "the date is not prefilled with the last training day")
            b.shot("07c-try-log")
            b.go(server.url + "/#/models/glass-type/try")
            b.find("#probabilities")
            b.shot("08-try-classification")

        def metric_titles_come_from_the_api():
            status, catalog = server.call("GET", "/api/v1/metrics", state["key"])
            check(status == 200 and {"rmse", "macro_f1", "roc_auc"} <= {m["name"] for m in catalog}, f"GET /api/v1/metrics: {status} {catalog}")
            titles = {m["name"]: m["title"] for m in catalog}
            for name, ready in [("glass-type", "table.confusion"), (state["model"], "#model-summary")]:
                b.go(server.url + f"/#/models/{name}")
                b.find(ready)
                status, card = server.call("GET", f"/api/v1/models/{name}", state["key"])
                shown = [cell.text.split("\n")[0] for cell in b.all("#metrics-table tbody td:first-child")]
                expected = sorted(titles[key] for key in card["metrics"])
                check(sorted(shown) == expected, f"{name}: the measures shown are {shown}, the API's titles {expected}")
                page = b.text("main")
                for key in [key for key in card["metrics"] if "_" in key or key in ("rmse", "mae", "r2")]:
                    check(not re.search(rf"\b{key}\b", b.text("#metrics-table")), f"{name}: the raw key {key!r} is shown in the measures")
                if card["task"] == "classification":
                    check(titles["macro_f1"] in page and "macro_f1" not in page, f"the classification card does not show {titles['macro_f1']!r}")
            status, algorithms = server.call("GET", "/api/v1/algorithms", state["key"])
            gbdt = next(a for a in algorithms if a["name"] == "gbdt")
            check(gbdt["title"] in b.text("main") and gbdt["description"], f"the algorithm is not named as the API names it: {gbdt}")

        def retrain_a_second_version():
            # A newer export of the same table, uploaded under the same name.
            newer = "\n".join(DATASET.read_text().strip().split("\n")[:141]) + "\n"
            status, dataset = server.call("POST", "/api/v1/datasets?name=Servo", state["key"], newer.encode(), content_type="text/csv")
            check(status == 201, f"uploading the newer export: {status} {dataset}")
            b.go(server.url + f"/#/models/{state['model']}")
            b.find("#model-summary")
            check("Version 1 of 1" in b.text("#model-version"), f"the card says {b.text('#model-version')!r}")
            b.find("#tab-versions").click()
            b.find("#versions-table")
            check(len(b.all("#versions-table tbody tr")) == 1, "a new model does not have exactly one version")
            check(Select(b.find("#retrain-dataset")).first_selected_option.get_attribute("value") == dataset["id"],
                  "the newer upload is not the table offered first")
            options = [o.get_attribute("value") for o in Select(b.find("#retrain-dataset")).options]
            check(state["dataset"]["id"] in options and len(options) == 2, f"the tables offered are {options}")
            check(not b.find("#retrain-promote").is_selected(), "promote when done is checked by default")
            b.find("#retrain-start").click()
            try:
                WebDriverWait(b.driver, 300).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#versions-table tbody tr")) == 2)
            except TimeoutException:
                raise Failure(f"the second version did not appear in 300 s; the page says {b.text('#retrain-job')!r}")
            check("Version 2 is ready" in b.text("#job-outcome"), f"the job's outcome reads {b.text('#job-outcome')!r}")
            status, versions = server.call("GET", f"/api/v1/models/{state['model']}/versions", state["key"])
            check(versions["serving_version"] == 1 and len(versions["versions"]) == 2, f"the API's versions: {versions}")
            check(serving_row(b) == "1", "the serving mark is not on version 1 after training version 2 without promoting")
            b.go(server.url + f"/#/models/{state['model']}/versions/2")
            b.find("#model-comparison")
            status, card = server.call("GET", f"/api/v1/models/{state['model']}/versions/2", state["key"])
            check(card["comparison"]["summary"] in b.text("#model-comparison"), f"the comparison reads {b.text('#model-comparison')!r}, the API's {card['comparison']}")
            check("version 1 serves" in b.text("#model-version"), f"the version card says {b.text('#model-version')!r}")
            check(b.text("#promote-this") == "Promote version 2" and not b.all("#try-link"), "a version that does not serve offers Try it instead of Promote")
            b.shot("04b-model-version")

        def promote_and_roll_back():
            b.go(server.url + f"/#/models/{state['model']}/versions")
            b.find("#versions-table")
            check(b.find("button.promote[data-version='2']").text == "Promote version 2", "version 2's button does not say Promote")
            check(not b.all("tr[data-version='1'] button"), "the serving version has buttons")
            b.find("button.promote[data-version='2']").click()
            WebDriverWait(b.driver, 10).until(lambda d: serving_row(b) == "2")
            check("Version 2 now answers" in b.text("#promotion-result"), f"the page says {b.text('#promotion-result')!r}")
            check(infer_version(server, state) == "2", "V2 inference does not answer with version 2 after promoting it")
            rollback = b.find("button.promote[data-version='1']")
            check(rollback.text == "Roll back to version 1", f"the earlier version's button reads {rollback.text!r}")
            rollback.click()
            WebDriverWait(b.driver, 10).until(lambda d: serving_row(b) == "1")
            check(infer_version(server, state) == "1", "V2 inference does not answer with version 1 after rolling back")
            status, versions = server.call("GET", f"/api/v1/models/{state['model']}/versions", state["key"])
            check(versions["serving_version"] == 1, f"the API says version {versions['serving_version']} serves")
            b.shot("model-versions")
            b.go(server.url + "/#/models/servo-rise-time/versions")
            b.find("#versions-table")
            check("read-only" in b.text("#versions-lead") and not b.all("#versions-table button") and not b.all("#retrain-form"),
                  "a demonstration model's versions can be changed")

        def monitoring_shows_windows():
            rows = [dict(zip(["Motor", "Screw", "Pgain", "Vgain"], line.split(",")[:4])) for line in DATASET.read_text().strip().split("\n")[1:]]
            for row in rows:
                row["Pgain"], row["Vgain"] = float(row["Pgain"]), float(row["Vgain"])
            # Rows like the training data, their outcomes, then rows where one motor and one gain dominate: drift.
            actual = [float(line.split(",")[4]) for line in DATASET.read_text().strip().split("\n")[1:]]
            status, fed = server.call("POST", f"/api/v1/models/{state['model']}/feedback", state["key"],
                                      {"rows": [dict(row, Class=value) for row, value in zip(rows[130:160], actual[130:160])]})
            check(status == 200 and fed["accepted"] == 30, f"feedback: {status} {fed}")
            shifted = [dict(row, Motor="E", Pgain=6.0) for row in rows[:110]]
            for batch in [rows[:50], rows[50:100], shifted[:55], shifted[55:]]:
                status, answer = server.call("POST", f"/api/v1/models/{state['model']}/predict", state["key"], {"rows": batch})
                check(status == 200 and len(answer["predictions"]) == len(batch), f"predicting: {status}")
            deadline = time.time() + 20
            while True:
                status, report = server.call("GET", f"/api/v1/models/{state['model']}/monitoring", state["key"])
                closed = [w for w in report["windows"] if not w["open"]]
                if len(closed) >= 4 or time.time() > deadline:
                    break
                time.sleep(0.5)
            check(len(closed) >= 4, f"the API has {len(closed)} closed windows after 210 predictions in windows of 50")
            b.go(server.url + f"/#/models/{state['model']}/monitoring")
            b.find("#windows-table")
            check(len(b.all("#windows-table tbody tr")) == len(report["windows"]), f"{len(b.all('#windows-table tbody tr'))} windows shown, the API has {len(report['windows'])}")
            shown = [row.get_attribute("data-feature") for row in b.all("#drift-table tbody tr")]
            check(shown == [d["name"] for d in report["drift"]], f"drift order shown {shown}, the API's {[d['name'] for d in report['drift']]}")
            check(set(report["flagged_features"]) >= {"Motor", "Pgain"} and report["drift"][0]["name"] in ("Motor", "Pgain"),
                  f"the shifted inputs are not flagged as the most drifted: {report['flagged_features']}, {report['drift']}")
            lines = len(b.all("#psi-chart g.psi-series"))
            check(lines == min(5, len(report["drift"])) + 1, f"{lines} lines in the PSI chart")
            points = len(b.all("#psi-chart g.psi-series .point"))
            check(points == lines * len(report["windows"]), f"{points} points for {lines} lines over {len(report['windows'])} windows")
            check(len(b.all("#psi-chart rect.psi-major")) == 1, "the chart does not mark the major band")
            bins = len(report["prediction_reference"]["bins"])
            check(len(b.all("#distribution-chart rect.bar.reference")) == bins + 1 and len(b.all("#distribution-chart rect.bar.current")) == bins + 1,
                  f"the prediction distribution does not have two bars for each of its {bins} bins")
            live = report["live"]
            check(live["outcomes"] == 30 and live["message"] in b.text("#live-message"), f"the live message reads {b.text('#live-message')!r}, the API's {live['message']!r}")
            check(b.find("#live-message").get_attribute("data-flagged") == str(live["flagged"]).lower(), "the live flag is not shown as the API says")
            if live["flagged"]:
                check("outside what cross-validation promised" in b.text("#live-message"), "a flagged live quality is not called out")
            if report["flagged_features"]:
                check(all(name in b.text("#drift-flags") for name in report["flagged_features"]), f"the flags read {b.text('#drift-flags')!r}")
            check("0.25 and above" in b.text("main"), "the PSI bands are not explained")
            b.shot("model-monitoring")

        def delete_a_version():
            b.go(server.url + f"/#/models/{state['model']}/versions")
            b.find("#versions-table")
            b.driver.execute_script("window.confirm = () => true")
            b.find("button.delete-version[data-version='2']").click()
            WebDriverWait(b.driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#versions-table tbody tr")) == 1)
            status, versions = server.call("GET", f"/api/v1/models/{state['model']}/versions", state["key"])
            check([v["version"] for v in versions["versions"]] == [1], f"the API's versions after deleting version 2: {versions}")
            status, body = server.call("DELETE", f"/api/v1/models/{state['model']}/versions/1", state["key"])
            check(status == 409, f"deleting the serving version answered {status}")

        def unknown_model_is_explained():
            b.go(server.url + "/#/models/no-such-model")
            shown = b.text("#error .message")
            status, body = server.call("GET", "/api/v1/models/no-such-model", state["key"])
            check(status == 404 and shown == body["error"], f"the banner says {shown!r}; the API said {status} {body}")
            check(b.find("main a").text == "Back to the start", "the page under the error is blank")

        def projector_size():
            b.driver.set_window_size(1024, 768)
            for page, ready in [(f"/#/models/{state['model']}", "#model-summary"), (f"/#/models/{state['model']}/try", "#prediction-value"),
                                (f"/#/datasets/{state['dataset']['id']}", "#profile-table"), ("/#/gallery", ".gallery article"),
                                (f"/#/models/{state['model']}/versions", "#versions-table"), (f"/#/models/{state['model']}/monitoring", "#windows-table")]:
                b.go(server.url + page)
                b.find(ready)
                overflow = b.driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth")
                check(not overflow, f"{page} scrolls sideways at 1024×768")
            b.driver.set_window_size(1366, 900)

        def keyboard():
            b.go(server.url + "/#/datasets")
            b.find("#upload-file")
            reached = set()
            for _ in range(40):
                ActionChains(b.driver).send_keys(Keys.TAB).perform()
                reached.add(b.driver.execute_script("return document.activeElement.id || document.activeElement.textContent.trim()"))
            for expected in ["upload-file", "Models", "Sign out"]:
                check(expected in reached, f"'{expected}' cannot be reached with the Tab key; reached {sorted(reached)}")

        def sign_out():
            b.find("#nav button").click()
            b.find("#api-key")
            check(b.driver.execute_script("return sessionStorage.length") == 0, "the key stays in the browser after signing out")

        step(b, "sign in with the admin key", sign_in_as_admin)
        step(b, "a wrong key is refused in the API's words", wrong_key_is_refused, allow_network=True)
        step(b, "create a workspace and sign in to it", create_workspace)
        step(b, "a table without rows is refused in the API's words", bad_upload_shows_the_api_error, allow_network=True)
        step(b, "drag and drop picks the file", drag_and_drop_picks_the_file)
        step(b, "upload Servo.csv and see its profile", upload)
        step(b, "train on it and watch the leaderboard", train)
        step(b, "cancel a training job", cancel_training)
        step(b, "the model page", model_page)
        step(b, "download the model as ONNX", download_onnx)
        step(b, "try it: prediction and reasons", try_it)
        step(b, "what-if slider", what_if)
        step(b, "score a whole file", batch)
        step(b, "the demonstrations", gallery)
        step(b, "metric and algorithm titles come from the API", metric_titles_come_from_the_api)
        step(b, "train a second version from the model page", retrain_a_second_version)
        step(b, "promote and roll back with the buttons", promote_and_roll_back)
        step(b, "monitoring shows the windows after predictions", monitoring_shows_windows)
        step(b, "delete a version that does not serve", delete_a_version)
        step(b, "an unknown model is explained in the API's words", unknown_model_is_explained, allow_network=True)
        step(b, "at projector resolution", projector_size)
        step(b, "reachable by keyboard", keyboard)
        step(b, "sign out", sign_out)
        print(f"dashboard end-to-end: all steps passed; screenshots in {arguments.screenshots}")
    except Exception:
        try:
            b.shot("failure")
            print(f"the page at the failure: {b.driver.current_url}\n{b.driver.find_element(By.TAG_NAME, 'body').text[:3000]}", file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        browser.quit()
        server.stop()


def serving_row(browser):
    """The version the versions table marks as serving."""
    # Read in one script: the table is redrawn after each promotion.
    marked = browser.driver.execute_script(
        "return [...document.querySelectorAll('#versions-table tbody tr.serving')].map((row) => row.dataset.version)")
    return marked[0] if len(marked) == 1 else None


def infer_version(server, state):
    """The model_version V2 inference answers for the model's name alone, on one row of Servo."""
    status, metadata = server.call("GET", f"/v2/models/{state['model']}", state["key"])
    check(status == 200, f"V2 metadata: {status} {metadata}")
    row = {"Motor": "E", "Screw": "E", "Pgain": 5.0, "Vgain": 4.0}
    inputs = [{"name": tensor["name"], "shape": [1, 1], "datatype": tensor["datatype"], "data": [row[tensor["name"]]]} for tensor in metadata["inputs"]]
    status, answer = server.call("POST", f"/v2/models/{state['model']}/infer", state["key"], {"inputs": inputs})
    check(status == 200, f"V2 inference: {status} {answer}")
    return answer["model_version"]


def read_form(browser, card):
    row = {}
    for feature in card["features"]:
        element = browser.driver.find_element(By.ID, f"feature-{feature['name']}")
        value = element.get_attribute("value")
        row[feature["name"]] = float(value) if element.get_attribute("data-kind") == "number" else value
    return row


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testbed", default=str(ROOT / ".build" / "release" / "testbed"))
    parser.add_argument("--screenshots", default=str(ROOT / ".build" / "dashboard-screenshots"))
    run(parser.parse_args())
