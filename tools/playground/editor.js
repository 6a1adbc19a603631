// The playground's pack editor: CodeMirror 6 with YAML, lint and completion, exposed as one global
// (GspolicyEditor.create) for src/gspolicy/serve/static/playground/playground.js.  Built by
// `npm run build` into src/gspolicy/serve/static/playground/editor.min.js (README.md).
import {EditorState} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {yaml} from "@codemirror/lang-yaml";
import {syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching, foldGutter} from "@codemirror/language";
import {linter, lintGutter, setDiagnostics, diagnosticCount} from "@codemirror/lint";
import {autocompletion, completionKeymap} from "@codemirror/autocomplete";
import {searchKeymap, highlightSelectionMatches} from "@codemirror/search";

// create({parent, doc, lint(text) -> Promise<diagnostics>, complete(context) -> result|null, onChange(text), delay})
export function create(options) {
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.doc || "",
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), foldGutter(), history(), drawSelection(),
        indentOnInput(), bracketMatching(), highlightActiveLine(), highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, {fallback: true}),
        yaml(),
        EditorState.tabSize.of(2),
        lintGutter(),
        linter(view => options.lint(view.state.doc.toString()), {delay: options.delay || 300}),
        autocompletion({override: [options.complete]}),
        keymap.of([indentWithTab, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...searchKeymap]),
        EditorView.updateListener.of(update => {
          if (update.docChanged && options.onChange) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: text => view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}}),
    // check the text again now (the language changed): the diagnostics replaced when they come
    relint: async () => {
      const text = view.state.doc.toString();
      const found = await options.lint(text);
      if (view.state.doc.toString() === text) view.dispatch(setDiagnostics(view.state, found));
    },
    count: () => diagnosticCount(view.state),
  };
}
