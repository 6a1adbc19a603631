// The gspolicy playground (docs/how-to/playground.md): edit a pack, see the checker's diagnostics
// underlined, a household decided with the edited pack, and the pack's own cases run.  Everything
// it needs comes from the server it was served by (gspolicy.serve.playground); nothing from the
// network.  The editor is CodeMirror 6, bundled in editor.min.js (tools/playground/).
"use strict";
(function () {
  const WORDS = {
    title: ["gspolicy 演练场", "gspolicy playground"],
    pack: ["政策包", "Pack"],
    version: ["版本", "Version"],
    run_cases: ["运行政策包的用例", "Run the pack's cases"],
    save: ["保存到文件", "Save to a file"],
    load: ["从文件载入", "Load from a file"],
    language: ["语言", "Language"],
    editor: ["政策包文本", "Pack text"],
    household: ["农户", "Household"],
    as_of: ["判定日期", "As of"],
    detail: ["说明详略", "Detail"],
    detail_fails: ["仅不通过与待定", "fails only"],
    detail_brief: ["简要", "brief"],
    detail_full: ["完整", "full"],
    start_from: ["从用例的农户开始", "Start from a case's household"],
    no_form: ["该政策包判定的记录没有表单：请在下方以 JSON 编辑", "no form for the records this pack decides: edit them as JSON below"],
    raw_json: ["农户的 JSON", "The household as JSON"],
    apply_json: ["应用 JSON", "Apply the JSON"],
    decision: ["判定与说明", "Decision and explanation"],
    verdict: ["结论", "Verdict"],
    cases: ["用例", "Cases"],
    footer: ["gspolicy 演练场：编辑不会写入服务器上的政策包。", "gspolicy playground: edits never change the packs on the server."],
    licences: ["第三方许可", "third-party licences"],
    checking: ["检查中…", "checking…"],
    checked_ok: ["检查通过", "the pack checks"],
    checked_bad: ["{n} 个错误：判定使用上一次通过检查的文本", "{n} errors: decisions use the last text that checked"],
    warnings: ["，{n} 个警告", ", {n} warnings"],
    deciding: ["判定中…", "deciding…"],
    not_in_force: ["（编辑的版本在该日期不生效，使用的是其他版本）", "(the edited version is not in force on that day: another version decides)"],
    running: ["运行中…", "running…"],
    cases_result: ["{passed} 个通过，{failed} 个不通过（{files}）", "{passed} passed, {failed} failed ({files})"],
    no_cases: ["该政策包没有用例", "this pack has no cases"],
    passed: ["通过", "pass"],
    failed: ["不通过", "fail"],
    expected: ["预期", "expected"],
    actual: ["实际", "actual"],
    missing: ["（缺失）", "(missing)"],
    add: ["添加", "Add"],
    remove: ["删除", "Remove"],
    yes: ["是", "true"],
    no: ["否", "false"],
    bad_file: ["文件不是演练场保存的状态", "the file is not a saved playground state"],
    bad_json: ["JSON 有误：", "the JSON is wrong: "],
    pass: ["通过", "PASS"], fail: ["不通过", "FAIL"], undetermined: ["待定", "UNDETERMINED"], not_applicable: ["不适用", "NOT APPLICABLE"],
  };
  const $ = id => document.getElementById(id);
  const state = {lang: "zh", packs: [], packId: "", version: "", household: {id: "H-1"}, asOf: "", schema: null, packSchema: null,
                 lastGood: "", cases: [], decideTimer: 0, decideSeq: 0, checkSeq: 0};
  const t = (key, args) => {
    const pair = WORDS[key] || [key, key];
    let text = pair[state.lang === "zh" ? 0 : 1];
    for (const [k, v] of Object.entries(args || {})) text = text.replace("{" + k + "}", v);
    return text;
  };
  const both = text => {  // "中文 / English" (the schema's titles) in the language shown
    const parts = String(text || "").split(" / ");
    return parts.length === 2 ? parts[state.lang === "zh" ? 0 : 1] : String(text || "");
  };

  // a server started with a token (`gspolicy serve --token-file`): the token is given after `#`
  // in the address (`/playground/#token=…`), which the browser never sends nor logs
  const token = new URLSearchParams(location.hash.slice(1)).get("token");

  async function call(method, path, body) {
    const headers = {"Content-Type": "application/json", "Accept-Language": state.lang};
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, {
      method, headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json();
    return {ok: response.ok, status: response.status, data};
  }

  // --- the words of the page ---------------------------------------------------------------
  function translate() {
    document.documentElement.lang = state.lang;
    for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
    fillPacks();
    buildForm();
  }

  // --- packs and versions --------------------------------------------------------------------
  function fillPacks() {
    const packSelect = $("pack"), versionSelect = $("version");
    packSelect.innerHTML = "";
    for (const p of state.packs) {
      const last = p.versions[p.versions.length - 1];
      packSelect.add(new Option(`${p.id} — ${last.title[state.lang]}`, p.id, false, p.id === state.packId));
    }
    versionSelect.innerHTML = "";
    const pack = state.packs.find(p => p.id === state.packId);
    for (const v of pack ? pack.versions : []) {
      const until = v.valid_to || "…";
      versionSelect.add(new Option(`${v.version} (${v.valid_from} – ${until})`, v.version, false, v.version === state.version));
    }
  }

  async function openPack(packId, version) {
    const query = version ? `?version=${encodeURIComponent(version)}` : "";
    const found = await call("GET", `/v1/playground/packs/${encodeURIComponent(packId)}${query}`);
    if (!found.ok) { showProblems($("decide-problems"), found.data.diagnostics); return; }
    const pack = found.data;
    state.packId = pack.id; state.version = pack.version; state.cases = pack.cases; state.subject = pack.subject;
    fillPacks();
    fillCases();
    if (pack.cases.length) useCase(0); else state.asOf = pack.valid_from;
    $("as-of").value = state.asOf;
    editor.setText(pack.text);
    clearCases();
  }

  function fillCases() {
    const select = $("case-select");
    select.innerHTML = "";
    state.cases.forEach((c, i) => select.add(new Option(`${c.name} (${c.as_of})`, String(i))));
  }

  function useCase(index) {
    const c = state.cases[index];
    if (!c) return;
    state.household = JSON.parse(JSON.stringify(c.household));
    state.asOf = c.as_of;
    $("as-of").value = state.asOf;
    buildForm();
    scheduleDecide(0);
  }

  // --- the editor: diagnostics and completions -----------------------------------------------
  async function lint(text) {
    const seq = ++state.checkSeq;
    $("check-status").textContent = t("checking");
    const found = await call("POST", "/v1/playground/validate", {text, lang: state.lang});
    if (seq !== state.checkSeq) return [];
    const diagnostics = found.data.diagnostics || [];
    showProblems($("diagnostics"), diagnostics);
    const errors = diagnostics.filter(d => d.severity === "error").length;
    const warnings = diagnostics.filter(d => d.severity === "warning").length;
    let status = found.ok && found.data.ok ? t("checked_ok") : t("checked_bad", {n: errors});
    if (warnings) status += t("warnings", {n: warnings});
    $("check-status").textContent = status;
    $("check-status").dataset.ok = String(found.ok && found.data.ok);
    if (found.ok && found.data.ok) { state.lastGood = text; scheduleDecide(0); }
    const size = text.length;
    return diagnostics.filter(d => d.from !== undefined).map(d => ({
      from: Math.min(d.from, size), to: Math.min(Math.max(d.to, d.from + 1), size),
      severity: d.severity, message: d.message + (d.help ? "\n" + d.help : ""), source: d.code,
    }));
  }

  function showProblems(list, diagnostics) {
    list.innerHTML = "";
    for (const d of diagnostics || []) {
      const item = document.createElement("li");
      item.className = d.severity;
      item.textContent = d.text || d.message;
      if (d.from !== undefined && list.id === "diagnostics") {
        item.addEventListener("click", () => {
          editor.view.dispatch({selection: {anchor: d.from, head: d.to}, scrollIntoView: true});
          editor.view.focus();
        });
      }
      list.appendChild(item);
    }
  }

  function resolve(node) {
    let seen = 0;
    while (node && node.$ref && seen++ < 20) node = state.packSchema.$defs[node.$ref.replace("#/$defs/", "")];
    return node || {};
  }
  function alternatives(node) {
    node = resolve(node);
    const out = [node];
    for (const key of ["anyOf", "oneOf", "allOf"]) for (const alt of node[key] || []) out.push(...alternatives(alt));
    return out;
  }
  function child(node, key) {  // the schema of `key` (a mapping key, or "-" for a list item) below `node`
    const found = [];
    for (const alt of alternatives(node)) {
      if (key === "-") { if (alt.items) found.push(alt.items); continue; }
      if (alt.properties && alt.properties[key]) found.push(alt.properties[key]);
      else if (alt.additionalProperties && typeof alt.additionalProperties === "object") found.push(alt.additionalProperties);
      else for (const [pattern, sub] of Object.entries(alt.patternProperties || {})) if (new RegExp(pattern).test(key)) found.push(sub);
    }
    return found.length ? {anyOf: found} : null;
  }
  function keysOf(node) {
    const keys = new Map();
    for (const alt of alternatives(node)) for (const [k, v] of Object.entries(alt.properties || {})) if (!keys.has(k)) keys.set(k, resolve(v));
    return keys;
  }
  function complete(context) {
    if (!state.packSchema) return null;
    const word = context.matchBefore(/[A-Za-z_][\w.]*/);
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    if (!/^\s*(- )?[A-Za-z_]*[\w.]*$/.test(before)) return null;  // keys only: at the start of a line
    if (!word && !context.explicit) return null;
    // the path of keys above the cursor, from the indentation of the lines before it
    const path = [];
    let indent = before.match(/^\s*/)[0].length + (before.trimStart().startsWith("- ") ? 2 : 0);
    if (before.trimStart().startsWith("- ")) path.unshift("-");
    for (let n = line.number - 1; n >= 1 && indent > 0; n--) {
      const text = context.state.doc.line(n).text;
      if (!text.trim() || text.trim().startsWith("#")) continue;
      const lead = text.match(/^\s*/)[0].length;
      const item = text.slice(lead).match(/^- ([A-Za-z_][\w.]*)\s*:/);
      const key = text.slice(lead).match(/^([A-Za-z_][\w.]*)\s*:/);
      if (item && lead + 2 < indent) { path.unshift(item[1]); path.unshift("-"); indent = lead; continue; }
      if (item && lead < indent) { path.unshift("-"); indent = lead; continue; }
      if (key && lead < indent) { path.unshift(key[1]); indent = lead; }
    }
    let node = state.packSchema;
    for (const key of path) { node = child(node, key); if (!node) return null; }
    const keys = keysOf(node);
    if (!keys.size) return null;
    return {
      from: word ? word.from : context.pos,
      options: [...keys].map(([label, sub]) => ({label, type: "property", apply: label + ": ", info: sub.description || sub.title || ""})),
      validFor: /^[\w.]*$/,
    };
  }

  // --- the household form, from the household schema -----------------------------------------
  function def(ref) { return state.schema.$defs[ref.replace("#/$defs/", "")]; }
  function shape(node) {  // what a property holds: {kind, ...}, nullable alternatives set aside
    let alts = node.anyOf ? node.anyOf.filter(a => a.type !== "null") : [node];
    let main = alts[0] || {};
    const bounds = {minimum: main.minimum, maximum: main.maximum};
    if (main.$ref) {
      const name = main.$ref.replace("#/$defs/", "");
      if (name.startsWith("record.")) return {kind: "object", record: name};
      if (name.startsWith("enum.")) return {kind: "enum", options: enumOptions(def(main.$ref))};
      if (name === "bool" || name === "integer" || name === "number" || name === "date") return {kind: name, ...bounds};
      main = def(main.$ref);
    }
    if (main.type === "array") {
      const items = main.items || {};
      const inner = items.$ref ? items.$ref.replace("#/$defs/", "") : "";
      if (inner.startsWith("record.")) return {kind: "list", record: inner};
      if (inner.startsWith("enum.")) return {kind: "enums", options: enumOptions(def(items.$ref))};
      return {kind: "text"};
    }
    return {kind: main.type === "integer" ? "integer" : main.type === "number" ? "number" : "text"};
  }
  function enumOptions(node) {  // [code, "中文 / English"] from "one of: `code` 中文 / English; …"
    const out = [];
    const text = String(node.description || "").replace(/^one of: /, "");
    for (const part of text.split(/; (?=`)/)) {
      const m = part.match(/^`([^`]+)` (.*)$/);
      if (m) out.push([m[1], m[2]]);
    }
    return out;
  }
  function label(text, path) {
    const span = document.createElement("span");
    span.textContent = both(text) || path;
    span.title = path;
    return span;
  }
  function field(container, title, path, kind, value, set, node) {
    const row = document.createElement("label");
    row.className = "field";
    row.appendChild(label(title, path));
    let input;
    if (kind.kind === "enum" || kind.kind === "bool") {
      input = document.createElement("select");
      input.add(new Option(t("missing"), ""));
      const options = kind.kind === "bool" ? [["true", t("yes")], ["false", t("no")]] : kind.options.map(([c, l]) => [c, `${both(l)} (${c})`]);
      for (const [code, words] of options) input.add(new Option(words, code));
      input.value = value === undefined || value === null ? "" : String(value);
      input.addEventListener("change", () => set(input.value === "" ? undefined : kind.kind === "bool" ? input.value === "true" : input.value));
    } else if (kind.kind === "enums") {
      input = document.createElement("select");
      input.multiple = true;
      for (const [code, words] of kind.options) input.add(new Option(`${both(words)} (${code})`, code, false, (value || []).includes(code)));
      input.addEventListener("change", () => {
        const chosen = [...input.selectedOptions].map(o => o.value);
        set(chosen.length ? chosen : undefined);
      });
    } else {
      input = document.createElement("input");
      input.type = kind.kind === "date" ? "date" : kind.kind === "integer" || kind.kind === "number" ? "number" : "text";
      if (kind.kind === "number") input.step = "any";
      if (kind.minimum !== undefined) input.min = kind.minimum;
      if (kind.maximum !== undefined) input.max = kind.maximum;
      input.value = value === undefined || value === null ? "" : String(value);
      input.addEventListener("input", () => {
        const raw = input.value.trim();
        if (raw === "") return set(undefined);
        if (input.type === "number") { const n = Number(raw); return set(Number.isFinite(n) ? n : raw); }
        set(raw);
      });
    }
    input.name = path;
    input.dataset.path = path;
    if (node && node.description) input.title = node.description;
    row.appendChild(input);
    container.appendChild(row);
  }
  function record(container, name, data, path, onEmpty) {
    const node = state.schema.$defs[name];
    for (const [key, sub] of Object.entries(node.properties || {})) {
      const where = path ? `${path}.${key}` : key;
      const kind = shape(sub);
      if (kind.kind === "object") {
        const box = document.createElement("fieldset");
        const legend = document.createElement("legend");
        legend.appendChild(label(sub.title, where));
        box.appendChild(legend);
        const inner = data[key] && typeof data[key] === "object" ? data[key] : {};
        record(box, kind.record, inner, where, () => {
          if (Object.keys(inner).length) data[key] = inner; else delete data[key];
        });
        container.appendChild(box);
      } else if (kind.kind === "list") {
        const box = document.createElement("fieldset");
        const legend = document.createElement("legend");
        legend.appendChild(label(sub.title, where));
        box.appendChild(legend);
        const items = Array.isArray(data[key]) ? data[key] : [];
        items.forEach((item, i) => {
          const one = document.createElement("div");
          one.className = "item";
          record(one, kind.record, item, `${where}[${i}]`, () => {});
          const remove = document.createElement("button");
          remove.type = "button"; remove.textContent = t("remove");
          remove.addEventListener("click", () => { items.splice(i, 1); if (!items.length) delete data[key]; buildForm(); scheduleDecide(); });
          one.appendChild(remove);
          box.appendChild(one);
        });
        const add = document.createElement("button");
        add.type = "button"; add.textContent = t("add");
        add.addEventListener("click", () => { items.push({id: String(items.length + 1)}); data[key] = items; buildForm(); scheduleDecide(); });
        box.appendChild(add);
        container.appendChild(box);
      } else {
        field(container, sub.title, where, kind, data[key], value => {
          if (value === undefined) delete data[key]; else data[key] = value;
          onEmpty();
          syncJson();
          scheduleDecide();
        }, sub);
      }
    }
  }
  function buildForm() {
    if (!state.schema) return;
    const form = $("household-form");
    form.innerHTML = "";
    const name = `record.${state.subject || "household"}`;
    const known = Boolean(state.schema.$defs[name]);
    $("no-form").hidden = known;
    form.hidden = !known;
    $("raw").open = $("raw").open || !known;
    if (known) record(form, name, state.household, "", () => {});
    syncJson();
  }
  function syncJson() { $("household-json").value = JSON.stringify(state.household, null, 2); }

  // --- deciding and the cases ----------------------------------------------------------------
  function scheduleDecide(delay) {
    clearTimeout(state.decideTimer);
    state.decideTimer = setTimeout(decideNow, delay === undefined ? 300 : delay);
  }
  async function decideNow() {
    if (!state.lastGood || !state.asOf) return;
    const seq = ++state.decideSeq;
    $("decide-status").textContent = t("deciding");
    const found = await call("POST", "/v1/playground/decide", {
      text: state.lastGood, household: state.household, as_of: state.asOf, lang: state.lang, detail: $("detail").value,
    });
    if (seq !== state.decideSeq) return;
    $("decide-status").textContent = "";
    if (!found.ok) {
      $("verdict").textContent = "—"; $("verdict").dataset.verdict = "";
      $("explanation").textContent = "";
      showProblems($("decide-problems"), found.data.diagnostics);
      return;
    }
    showProblems($("decide-problems"), []);
    const verdict = found.data.verdict || "";
    $("verdict").textContent = verdict ? t(verdict) : "—";
    $("verdict").dataset.verdict = verdict;
    $("decide-status").textContent = found.data.in_force ? "" : t("not_in_force");
    $("explanation").textContent = found.data.text;
    $("explanation").dataset.hash = found.data.pack.content_hash;
  }
  function clearCases() { $("cases-summary").textContent = ""; $("cases-table").tBodies[0].innerHTML = ""; }
  async function runCases() {
    clearCases();
    $("cases-summary").textContent = t("running");
    const found = await call("POST", "/v1/playground/cases", {text: editor.text(), lang: state.lang});
    if (!found.ok) { $("cases-summary").textContent = ""; showProblems($("decide-problems"), found.data.diagnostics); return; }
    const data = found.data;
    $("cases-summary").textContent = data.results.length
      ? t("cases_result", {passed: data.passed, failed: data.failed, files: data.files.join(", ")}) : t("no_cases");
    $("cases-summary").dataset.failed = String(data.failed);
    const body = $("cases-table").tBodies[0];
    const ordered = [...data.results].sort((a, b) => Number(a.passed) - Number(b.passed));
    for (const r of ordered) {
      const row = body.insertRow();
      row.className = r.passed ? "passed" : "failed";
      const mark = row.insertCell(); mark.className = "mark"; mark.textContent = r.passed ? t("passed") : t("failed");
      const what = row.insertCell();
      what.textContent = `${r.file}:${r.line} ${r.name} (${r.as_of})`;
      if (!r.passed) {
        const pre = document.createElement("pre");
        pre.textContent = r.report;
        what.appendChild(pre);
      }
    }
    showProblems($("decide-problems"), data.diagnostics);
  }

  // --- saving and loading --------------------------------------------------------------------
  function save() {
    const saved = {format: "gspolicy-playground", pack: state.packId, version: state.version, text: editor.text(),
                   household: state.household, as_of: state.asOf, detail: $("detail").value, lang: state.lang};
    const blob = new Blob([JSON.stringify(saved, null, 2)], {type: "application/json"});
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `playground-${state.packId || "pack"}.json`;
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }
  async function load(file) {
    let saved;
    try { saved = JSON.parse(await file.text()); } catch (error) { saved = null; }
    if (!saved || saved.format !== "gspolicy-playground" || typeof saved.text !== "string") {
      $("check-status").textContent = t("bad_file"); return;
    }
    state.packId = saved.pack || state.packId; state.version = saved.version || state.version;
    state.household = saved.household && typeof saved.household === "object" ? saved.household : {id: "H-1"};
    state.asOf = saved.as_of || state.asOf;
    if (saved.detail) $("detail").value = saved.detail;
    if (saved.lang === "zh" || saved.lang === "en") { state.lang = saved.lang; $("lang").value = saved.lang; }
    $("as-of").value = state.asOf;
    translate();
    editor.setText(saved.text);
  }

  // --- start ---------------------------------------------------------------------------------
  let editor;
  async function start() {
    const asked = new URLSearchParams(location.search).get("lang") || localStorage.getItem("gspolicy-playground-lang") || navigator.language || "zh";
    state.lang = asked.toLowerCase().startsWith("zh") ? "zh" : "en";
    $("lang").value = state.lang;
    editor = GspolicyEditor.create({parent: $("editor"), doc: "", lint, complete, delay: 300});
    window.playground = {editor, state, decideNow, runCases};
    const [packs, schema, packSchema] = await Promise.all([
      call("GET", "/v1/playground/packs"), call("GET", "/v1/playground/schemas/household"), call("GET", "/v1/playground/schemas/pack")]);
    state.packs = packs.data.packs.filter(p => p.versions[0].kind !== "statistics");
    state.schema = schema.data; state.packSchema = packSchema.data;
    const wanted = new URLSearchParams(location.search).get("pack");
    const first = state.packs.find(p => p.id === wanted) || state.packs.find(p => p.versions[0].kind === "exit" && p.versions[0].subject === "household") || state.packs[0];
    translate();
    $("pack").addEventListener("change", () => openPack($("pack").value));
    $("version").addEventListener("change", () => openPack(state.packId, $("version").value));
    $("case-select").addEventListener("change", () => useCase(Number($("case-select").value)));
    $("as-of").addEventListener("change", () => { state.asOf = $("as-of").value; scheduleDecide(0); });
    $("detail").addEventListener("change", () => scheduleDecide(0));
    $("run-cases").addEventListener("click", runCases);
    $("save").addEventListener("click", save);
    $("load").addEventListener("change", () => { if ($("load").files[0]) load($("load").files[0]); $("load").value = ""; });
    $("apply-json").addEventListener("click", () => {
      try { state.household = JSON.parse($("household-json").value); buildForm(); scheduleDecide(0); }
      catch (error) { $("decide-status").textContent = t("bad_json") + error.message; }
    });
    $("lang").addEventListener("change", () => {
      state.lang = $("lang").value;
      localStorage.setItem("gspolicy-playground-lang", state.lang);
      translate();
      editor.relint();
      scheduleDecide(0);
      if ($("cases-table").tBodies[0].rows.length) runCases();
    });
    if (first) await openPack(first.id);
    document.body.dataset.ready = "true";
  }
  start();
})();
