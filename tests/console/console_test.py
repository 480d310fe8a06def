#!/usr/bin/python3
"""Browser test of Goethe's web console (console/, issue #17).

It starts real goethe-server processes with the console served from --console-dir, fills them
with events through the JSON API (urllib), and drives headless Chromium through every page:

  * an open server (plain HTTP): the topic list (topics and their event counts), a topic page
    (settings, retention, a cursor and a group with their lag), the event browser (next/previous,
    page size, from an offset and from a date-time, payloads as JSON, text and hex, key and
    headers, filters by key and by header), the live tail (an event produced after it opened)
    and the server page (version, backend, uptime, rates);
  * a server with server.tls and server.auth: over HTTPS the console asks for a token, says
    clearly when the server refuses one, shows the topics with the right one, keeps it across a
    reload (sessionStorage) and forgets it on request.

After every page it checks that the browser logged no error (on the token server, the 401
answers the console provokes on purpose are the only ones let through). It saves a screenshot of
every page to --out and prints their paths.

Run it with Debian's python (python3-selenium, chromium and chromium-driver are installed for
/usr/bin/python3):

  /usr/bin/python3 tests/console/console_test.py --server build/server/goethe-server \
      --plugin-dir build/plugins --console-dir console --out /tmp/console-shots

Exit status: 0 passed, 1 failed, 77 when no browser is installed (Chromium, chromedriver or
Selenium missing), for CTest's SKIP_RETURN_CODE.
"""

import argparse
import base64
import datetime
import json
import os
import queue
import re
import secrets
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

CHROMEDRIVER = '/usr/bin/chromedriver'
SKIP = 77
WAIT = 10  # seconds any one browser wait may take

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported in main()
    webdriver = None

ARGS = None
SHOTS = []


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def log(message):
    print(message, flush=True)


class Server:
    """One goethe-server process with HTTP on an ephemeral port, stopped by its pid."""

    def __init__(self, workdir, tls=False, token=None):
        self.workdir = workdir
        self.tls = tls
        self.token = token
        self.proc = None
        self.port = None
        self.output = []
        self.ssl_context = None

    def config(self):
        lines = [
            'storage:',
            '  backend: leveldb',
            f'  path: {self.workdir}/data',
            '  sync: false',
            f'  plugin_dir: {ARGS.plugin_dir}',
            'server:',
            '  listen: 127.0.0.1:0',
            '  log_level: warn',
        ]
        if self.tls:
            lines += ['  tls:', f'    cert_file: {self.workdir}/server.pem', f'    key_file: {self.workdir}/server.key']
        if self.token:
            lines += [
                '  auth:',
                '    tokens:',
                '      - name: console',
                f'        token: {self.token}',
                '        grants:',
                '          - permissions: [produce, consume, admin]',
                '            topics: "*"',
            ]
        lines += ['  http:', '    listen: 127.0.0.1:0', f'    console_dir: {ARGS.console_dir}']
        return '\n'.join(lines) + '\n'

    def start(self):
        if self.tls:
            subprocess.run(
                ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                 '-keyout', f'{self.workdir}/server.key', '-out', f'{self.workdir}/server.pem',
                 '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                check=True, capture_output=True, timeout=30)
            self.ssl_context = ssl.create_default_context(cafile=f'{self.workdir}/server.pem')
        path = os.path.join(self.workdir, 'goethe.yaml')
        with open(path, 'w') as f:
            f.write(self.config())
        self.proc = subprocess.Popen([ARGS.server, '--config', path], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=self.workdir)
        lines = queue.Queue()

        def drain():  # keeps reading so the pipe never fills
            for line in self.proc.stdout:
                self.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            match = re.match(r'goethe-server http listening on 127\.0\.0\.1:(\d+)', line)
            if match:
                self.port = int(match.group(1))
                return
        self.stop()
        raise RuntimeError('goethe-server did not start its HTTP listener within 20 s; its output:\n' +
                           ''.join(self.output))

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def base(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def api(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header('Content-Type', 'application/json')
        if self.token:
            request.add_header('Authorization', f'Bearer {self.token}')
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as answer:
                return json.loads(answer.read() or b'{}')
        except urllib.error.HTTPError as error:
            raise AssertionError(f'{method} {path}: {error.code} {error.read().decode(errors="replace")}') from None

    def produce(self, topic, events):
        return self.api('POST', f'/v1/topics/{topic}/events', {'events': events})


def make_driver(workdir, insecure=False):
    options = webdriver.ChromeOptions()
    for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,900',
                f'--user-data-dir={workdir}/chrome', '--no-first-run', '--disable-extensions',
                '--disable-background-networking', '--disable-component-update', '--disable-sync'):
        options.add_argument(arg)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    if insecure:
        options.set_capability('acceptInsecureCerts', True)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(15)
    driver.set_script_timeout(10)
    return driver


class ConsoleCase(unittest.TestCase):
    """Helpers shared by both servers' tests."""

    driver = None
    server = None
    allowed_log = None  # a regex of browser log lines expected on this server

    def wait(self, condition, message, timeout=WAIT):
        def safe(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:  # a poll re-rendered the element
                return False
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe)
        except TimeoutException:
            self.shot('FAILED-' + re.sub(r'\W+', '-', message)[:50])
            raise AssertionError(f'timed out after {timeout} s waiting for: {message}') from None

    def css(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def texts(self, selector):
        return [e.get_attribute('textContent') for e in self.css(selector)]

    def text_of(self, selector):
        found = self.css(selector)
        return found[0].get_attribute('textContent') if found else None

    def visible(self, selector):
        found = self.css(selector)
        return bool(found) and found[0].is_displayed()

    def go(self, route):
        self.driver.get(f'{self.server.base}/#{route}')

    def offsets(self):
        return [t.lstrip('#').replace(',', '') for t in self.texts('[data-testid="event-offset"]')]

    def event(self, offset):
        return f'[data-testid="event"][data-offset="{offset}"]'

    def shot(self, name):
        """A screenshot of the whole page, beyond the window's height (Chromium's DevTools call)."""
        os.makedirs(ARGS.out, exist_ok=True)
        path = os.path.join(ARGS.out, f'{name}.png')
        size = self.driver.execute_cdp_cmd('Page.getLayoutMetrics', {})['cssContentSize']
        shot = self.driver.execute_cdp_cmd('Page.captureScreenshot', {
            'format': 'png', 'captureBeyondViewport': True,
            'clip': {'x': 0, 'y': 0, 'width': size['width'], 'height': min(size['height'], 4000), 'scale': 1}})
        with open(path, 'wb') as f:
            f.write(base64.b64decode(shot['data']))
        SHOTS.append(path)
        log(f'screenshot: {path}')
        return path

    def assert_clean_log(self, page):
        """No error in the browser's console since the last check (expected ones aside)."""
        errors = []
        for entry in self.driver.get_log('browser'):
            if entry['level'] != 'SEVERE':
                continue
            if self.allowed_log and re.search(self.allowed_log, entry['message']):
                continue
            errors.append(entry['message'])
        self.assertEqual(errors, [], f'browser console errors on the {page} page')


class OpenServerTest(ConsoleCase):
    """A server without auth or TLS, with topics `orders` (25 events of every kind) and `audit`."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix='goethe-console-')
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.server = Server(cls.tmp.name)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.fill()
        cls.driver = make_driver(cls.tmp.name)
        cls.addClassCleanup(cls.driver.quit)

    @classmethod
    def fill(cls):
        s = cls.server
        s.api('POST', '/v1/topics', {'topic': 'orders',
                                      'settings': {'retentionAge': '604800s', 'retentionEvents': '100000'}})
        first = []
        for i in range(10):  # offsets 0-9: JSON, with a key and a header
            first.append({'payload': b64(json.dumps({'id': i, 'item': f'widget-{i}', 'qty': i % 3 + 1,
                                                     'price': 12.5, 'tags': ['new', 'eu']})),
                          'key': b64(f'user-{i % 3}'),
                          'headers': [{'name': 'type', 'value': b64('created' if i % 2 == 0 else 'paid')},
                                      {'name': 'trace', 'value': b64(f'tr-{i:04d}')}]})
        for i in range(10, 15):  # 10-14: plain text
            first.append({'payload': b64(f'plain text note {i}: shipped to Weimar')})
        for i in range(15, 18):  # 15-17: bytes that are not UTF-8
            first.append({'payload': b64(b'\xff\x00\x10' + bytes([i]) * 5), 'key': b64(b'\x01\x02')})
        for i in range(18, 20):  # 18-19: JSON without key
            first.append({'payload': b64(json.dumps({'id': i, 'note': 'no key'}))})
        answer = s.produce('orders', first)
        t1 = max(int(t) for t in answer['timestampsUnixNanos'])
        # The second batch lands in a later whole second, so a date-time seek can tell them apart.
        time.sleep(max(0.0, (t1 // 10**9 + 1) - time.time()) + 0.1)
        answer = s.produce('orders', [{'payload': b64(json.dumps({'id': 100 + i, 'batch': 2})),
                                       'key': b64('late'), 'headers': [{'name': 'type', 'value': b64('late')}]}
                                      for i in range(5)])
        cls.second_batch_nanos = int(answer['timestampsUnixNanos'][0])
        assert answer['firstOffset'] == '20', answer
        s.produce('audit', [{'payload': b64(f'login user-{i}')} for i in range(7)])
        s.api('PUT', '/v1/topics/orders/cursors/billing', {'offset': '5'})
        s.api('POST', '/v1/topics/orders/groups', {'group': 'shipping'})

    def test_1_topic_list(self):
        self.go('/topics')
        row = '[data-testid="topic-row"][data-topic="{}"] [data-testid="topic-events"]'
        self.wait(lambda d: self.text_of(row.format('orders')) == '25' and self.text_of(row.format('audit')) == '7',
                  'topic list with orders (25 events) and audit (7 events)')
        self.assertEqual(self.texts('[data-testid="topic-link"]'), ['audit', 'orders'])
        self.shot('01-topics')
        self.assert_clean_log('topic list')

        # Traffic while the list polls draws the append-rate sparkline.
        stop = threading.Event()

        def traffic():
            n = 0
            while not stop.is_set():
                n += 1
                self.server.produce('audit', [{'payload': b64(f'tick {n}')}] * (1 + (n // 3) % 6))  # bursts
                stop.wait(0.25)

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                                    '[data-topic="audit"] .sparkline polyline')) == 1 and
                      re.match(r'[1-9]', self.text_of('[data-topic="audit"] [data-testid="topic-rate"]') or ''),
                      'an append rate for audit', timeout=12)
            time.sleep(4.5)  # a few more samples for the line
        finally:
            stop.set()
            worker.join(5)
        self.shot('02-topics-append-rate')
        self.assert_clean_log('topic list')

    def test_2_topic_page(self):
        cursor = self.server.api('GET', '/v1/topics/orders/cursors/billing')['cursor']
        group = self.server.api('GET', '/v1/topics/orders/groups/shipping')['group']
        self.go('/topics/orders')
        self.wait(lambda d: self.text_of('[data-consumer="billing"] [data-testid="cursor-lag"]') is not None and
                  self.text_of('[data-group="shipping"] [data-testid="group-lag"]') is not None,
                  'the cursor billing and the group shipping')
        self.assertEqual(self.text_of('[data-testid="page-title"]'), 'orders')
        self.assertEqual(self.text_of('[data-consumer="billing"] [data-testid="cursor-offset"]'), '5')
        self.assertEqual(self.text_of('[data-consumer="billing"] [data-testid="cursor-lag"]'), cursor['lag'])
        self.assertEqual(cursor['lag'], '19')
        self.assertEqual(self.text_of('[data-group="shipping"] [data-testid="group-lag"]'), group['lag'])
        self.assertEqual(self.text_of('[data-testid="retention-age"]'), '7 d')
        self.assertEqual(self.text_of('[data-testid="retention-events"]'), '100,000')
        self.assertEqual(self.text_of('[data-testid="retention-bytes"]'), 'no limit')
        self.assertEqual(self.text_of('[data-testid="index-granularity"]'), '1 min')
        self.assertEqual(self.text_of('[data-testid="topic-event-count"]'), '25')
        self.shot('03-topic')
        self.assert_clean_log('topic')

    def test_3_event_browser(self):
        self.go('/topics/orders/events')
        self.wait(lambda d: self.offsets()[:1] == ['0'], 'the first page from offset 0')
        Select(self.one('[data-testid="page-size"]')).select_by_value('10')
        self.wait(lambda d: self.offsets() == [str(i) for i in range(10)], 'a page of offsets 0-9')
        self.assertEqual(self.text_of('[data-testid="page-range"]'), 'Offsets 0 – 9')
        self.assertFalse(self.one('[data-testid="prev"]').is_enabled())

        # JSON pretty-printed, key and headers.
        first = self.one(self.event(0))
        payload = first.find_element(By.CSS_SELECTOR, '[data-testid="event-payload"]').get_attribute('textContent')
        self.assertIn('{\n  "id": 0,\n  "item": "widget-0"', payload)
        self.assertEqual(first.find_element(By.CSS_SELECTOR, '[data-testid="payload-kind"]').text.lower(), 'json')
        self.assertEqual(first.find_element(By.CSS_SELECTOR, '[data-testid="event-key"]').text, 'user-0')
        headers = [e.get_attribute('textContent') for e in first.find_elements(By.CSS_SELECTOR, '[data-testid="event-header"]')]
        self.assertEqual(headers, ['type=created', 'trace=tr-0000'])
        self.shot('04-events-page-1')

        # Next and previous.
        self.one('[data-testid="next"]').click()
        self.wait(lambda d: self.offsets() == [str(i) for i in range(10, 20)], 'a page of offsets 10-19')
        self.assertEqual(self.text_of('[data-testid="page-range"]'), 'Offsets 10 – 19')
        text = self.one(self.event(10)).find_element(By.CSS_SELECTOR, '[data-testid="event-payload"]')
        self.assertEqual(text.get_attribute('textContent'), 'plain text note 10: shipped to Weimar')
        self.assertEqual(self.one(self.event(10)).find_element(By.CSS_SELECTOR, '[data-testid="payload-kind"]').text.lower(), 'text')
        binary = self.one(self.event(15))
        self.assertIn('ff 00 10 0f 0f', binary.find_element(By.CSS_SELECTOR, '[data-testid="event-payload"]').get_attribute('textContent'))
        self.assertEqual(binary.find_element(By.CSS_SELECTOR, '[data-testid="payload-kind"]').text.lower(), 'hex')
        self.assertEqual(binary.find_element(By.CSS_SELECTOR, '[data-testid="event-key"]').text, '01 02')
        self.shot('05-events-page-2-auto')
        self.one('[data-testid="next"]').click()
        self.wait(lambda d: self.offsets() == [str(i) for i in range(20, 25)], 'the last page, offsets 20-24')
        self.assertFalse(self.one('[data-testid="next"]').is_enabled())
        self.one('[data-testid="prev"]').click()
        self.wait(lambda d: self.offsets() == [str(i) for i in range(10, 20)], 'back to offsets 10-19')
        self.assert_clean_log('event browser')

        # Each payload view.
        self.one('[data-testid="mode-hex"]').click()
        self.wait(lambda d: self.text_of(self.event(10) + ' [data-testid="payload-kind"]') == 'hex',
                  'the text payload shown as hex')
        self.assertIn('70 6c 61 69 6e 20', self.text_of(self.event(10) + ' [data-testid="event-payload"]'))
        self.assertIn('|plain text note |', self.text_of(self.event(10) + ' [data-testid="event-payload"]'))
        self.assertIn('view=hex', self.driver.current_url)
        self.shot('06-events-hex')
        self.one('[data-testid="mode-json"]').click()
        self.wait(lambda d: 'not JSON: shown as text' in (self.text_of(self.event(10)) or ''), 'the JSON view')
        self.assertEqual(self.text_of(self.event(18) + ' [data-testid="payload-kind"]'), 'json')
        self.assertIn('not JSON: shown as text', self.text_of(self.event(10)))
        self.assertIn('not JSON: shown as hex', self.text_of(self.event(15)))
        self.shot('07-events-json')
        self.one('[data-testid="mode-text"]').click()
        self.wait(lambda d: self.text_of(self.event(18) + ' [data-testid="event-payload"]') == '{"id": 18, "note": "no key"}',
                  'the JSON payload shown as its text')
        self.assertIn('not valid UTF-8', self.text_of(self.event(15)))
        self.shot('08-events-text')
        self.one('[data-testid="mode-auto"]').click()
        self.assert_clean_log('event browser')

        # From an offset.
        box = self.one('[data-testid="from-offset"]')
        box.clear()
        box.send_keys('7')
        self.one('[data-testid="from-offset-go"]').click()
        self.wait(lambda d: self.offsets()[:1] == ['7'] and len(self.offsets()) == 10, 'a page from offset 7')

        # Filter by key, then by header.
        self.one('[data-testid="filter-key"]').send_keys('late')
        self.one('[data-testid="filter-apply"]').click()
        self.wait(lambda d: self.offsets() == ['20', '21', '22', '23', '24'], 'only the events with key "late"')
        self.assertEqual(set(self.texts('[data-testid="event-key"]')), {'late'})
        self.shot('09-events-filter-key')
        self.one('[data-testid="filter-clear"]').click()
        self.wait(lambda d: self.one('[data-testid="filter-key"]').get_attribute('value') == '' and len(self.offsets()) == 10,
                  'the filter cleared')
        self.one('[data-testid="from-offset"]').clear()
        self.one('[data-testid="from-offset-go"]').click()
        self.wait(lambda d: self.offsets()[:1] == ['0'], 'back to offset 0')
        self.one('[data-testid="filter-header-name"]').send_keys('type')
        self.one('[data-testid="filter-header-value"]').send_keys('paid')
        self.one('[data-testid="filter-apply"]').click()
        self.wait(lambda d: self.offsets() == ['1', '3', '5', '7', '9'], 'only the events with header type=paid')
        self.shot('10-events-filter-header')
        self.assert_clean_log('event browser')

        # From a date-time: the second batch's second, in the browser's (local) time zone.
        self.one('[data-testid="filter-clear"]').click()
        self.wait(lambda d: len(self.offsets()) == 10, 'the filter cleared')
        local = datetime.datetime.fromtimestamp(self.second_batch_nanos // 10**9).strftime('%Y-%m-%dT%H:%M:%S')
        field = self.one('[data-testid="from-time"]')
        self.driver.execute_script('arguments[0].value = arguments[1]', field, local)
        self.one('[data-testid="from-time-go"]').click()
        self.wait(lambda d: self.offsets() == ['20', '21', '22', '23', '24'], f'the events at or after {local}')
        self.assertIn('offset 20', self.text_of('[data-testid="seek-note"]'))
        self.shot('11-events-from-time')
        self.assert_clean_log('event browser')

    def test_4_live_tail(self):
        self.go('/topics/orders/tail')
        self.wait(lambda d: self.text_of('[data-testid="tail-status"]') == 'live', 'the live stream open')
        self.assertEqual(self.text_of('[data-testid="tail-count"]'), '0 events seen')
        offset = self.server.produce('orders', [{
            'payload': b64(json.dumps({'id': 500, 'status': 'live', 'total': 99.5})),
            'key': b64('user-live'), 'headers': [{'name': 'type', 'value': b64('created')}]}])['firstOffset']
        self.wait(lambda d: self.css(self.event(offset)), f'the event at offset {offset}, produced after the tail opened')
        card = self.one(self.event(offset))
        self.assertIn('"status": "live"', card.find_element(By.CSS_SELECTOR, '[data-testid="event-payload"]').get_attribute('textContent'))
        self.assertEqual(card.find_element(By.CSS_SELECTOR, '[data-testid="event-key"]').text, 'user-live')
        self.assertEqual(self.text_of('[data-testid="tail-count"]'), '1 event seen')

        # Paused, events are held back; resumed, they show, newest on top.
        self.one('[data-testid="tail-pause"]').click()
        later = self.server.produce('orders', [{'payload': b64(f'after pause {i}')} for i in range(3)])
        self.wait(lambda d: self.text_of('[data-testid="tail-held"]') == '· 3 held while paused', 'three events held')
        self.assertFalse(self.css(self.event(later['firstOffset'])))
        self.one('[data-testid="tail-pause"]').click()
        last = str(int(later['firstOffset']) + 2)
        self.wait(lambda d: self.offsets()[:1] == [last], 'the held events shown, newest first')
        self.assertEqual(self.text_of('[data-testid="tail-count"]'), '4 events seen')
        self.shot('12-live-tail')
        self.one('[data-testid="tail-clear"]').click()
        self.wait(lambda d: not self.offsets(), 'the tail cleared')
        self.assert_clean_log('live tail')

    def test_5_server(self):
        info = self.server.api('GET', '/v1/server')
        self.go('/server')
        self.wait(lambda d: self.text_of('[data-testid="server-version"]') == info['version'], 'the server version')
        self.assertEqual(self.text_of('[data-testid="server-backend"]'), 'leveldb')
        self.assertEqual(self.text_of('[data-testid="server-sync"]'), 'off')
        self.assertRegex(self.text_of('[data-testid="server-uptime"]'), r'^\d+ (s|min \d+ s)$')
        self.assertRegex(self.text_of('[data-testid="server-store"]'), r'\d (B|KiB|MiB)$')
        self.wait(lambda d: re.match(r'\d', self.text_of('[data-testid="rate-appended-events"]') or ''),
                  'an appended rate (two polls)')
        self.server.produce('audit', [{'payload': b64('x' * 100)}] * 50)
        self.wait(lambda d: re.match(r'[1-9]', self.text_of('[data-testid="rate-appended-events"]') or ''),
                  'a nonzero appended rate')
        self.assertIn('Single node', self.text_of('[data-testid="cluster"]'))
        self.shot('13-server')
        self.assert_clean_log('server')


class TokenOverTlsTest(ConsoleCase):
    """A server with server.tls and server.auth: the console asks for the token over HTTPS."""

    # The 401s the console provokes to learn that it needs a token are logged by the browser.
    allowed_log = r'\b401\b'

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix='goethe-console-tls-')
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.token = secrets.token_hex(24)
        cls.server = Server(cls.tmp.name, tls=True, token=cls.token)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.server.produce('secure.orders', [{'payload': b64(json.dumps({'id': i}))} for i in range(3)])
        cls.driver = make_driver(cls.tmp.name, insecure=True)
        cls.addClassCleanup(cls.driver.quit)

    def test_token(self):
        self.assertTrue(self.server.base.startswith('https://'))
        self.go('/topics')
        self.wait(lambda d: self.visible('[data-testid="token-form"]'), 'the token form')
        self.assertFalse(self.visible('[data-testid="token-message"]'))
        self.assertFalse(self.visible('[data-testid="view"]'))
        self.assertEqual(self.text_of('#token-label'), 'No token')
        self.shot('14-token-prompt')
        self.assert_clean_log('token prompt')

        self.one('[data-testid="token-input"]').send_keys('not-the-right-token-0123')
        self.one('[data-testid="token-submit"]').click()
        self.wait(lambda d: self.visible('[data-testid="token-message"]'), 'the refusal')
        message = self.text_of('[data-testid="token-message"]')
        self.assertTrue(message.startswith('The server refused this token: '), message)
        self.assertNotIn('not-the-right-token', message)
        self.assertTrue(self.visible('[data-testid="token-form"]'))
        self.shot('15-token-refused')
        self.assert_clean_log('token refused')

        self.one('[data-testid="token-input"]').send_keys(self.token)
        self.one('[data-testid="token-submit"]').click()
        row = '[data-topic="secure.orders"] [data-testid="topic-events"]'
        self.wait(lambda d: self.text_of(row) == '3', 'the topic list with the right token')
        self.assertFalse(self.visible('[data-testid="token-form"]'))
        self.assertEqual(self.text_of('#token-label'), 'Token set')
        self.shot('16-topics-with-token')
        self.assert_clean_log('topic list (token)')

        # The token lasts the session: a reload asks for nothing.
        self.driver.refresh()
        self.wait(lambda d: self.text_of(row) == '3', 'the topic list after a reload')
        self.assertFalse(self.visible('[data-testid="token-form"]'))
        self.go('/server')
        self.wait(lambda d: self.text_of('[data-testid="server-backend"]') == 'leveldb', 'the server page with the token')
        self.assert_clean_log('server (token)')

        # Forgotten, it is asked for again.
        self.one('[data-testid="forget-token"]').click()
        self.wait(lambda d: self.visible('[data-testid="token-form"]'), 'the token form after forgetting')
        self.assertFalse(self.visible('[data-testid="token-message"]'))
        self.assertEqual(self.driver.execute_script('return sessionStorage.length'), 0)
        self.assert_clean_log('forgotten token')


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--server', required=True, help='the goethe-server binary')
    parser.add_argument('--plugin-dir', required=True, help='where libgoethe_kv_leveldb.so is')
    parser.add_argument('--console-dir', required=True, help="the console's files (the repository's console/)")
    parser.add_argument('--out', required=True, help='where to save the screenshots')
    ARGS, rest = parser.parse_known_args()
    for name in ('server', 'plugin_dir', 'console_dir', 'out'):
        setattr(ARGS, name, os.path.abspath(getattr(ARGS, name)))
    missing = [what for what, ok in (('python3-selenium', webdriver is not None),
                                     ('chromium-driver', os.access(CHROMEDRIVER, os.X_OK))) if not ok]
    if missing:
        print(f'SKIP: no browser to drive ({", ".join(missing)} not installed)', flush=True)
        return SKIP
    started = time.monotonic()
    result = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2).result
    print(f'{len(SHOTS)} screenshots in {ARGS.out}; {time.monotonic() - started:.1f} s', flush=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
