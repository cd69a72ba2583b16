import { useEffect, useState } from "react";
import type { Json, ParamType } from "../api/types";
import { valueFormat, valueParse } from "../graph/values";

/**
 * An input fitting a parameter type. Empty means "no value here" (the next layer wins);
 * text is committed on blur or Enter once it parses.
 */
export function ValueInput(props: {
  type: ParamType | null;
  value: Json | undefined;
  placeholder?: string;
  onChange: (value: Json | undefined) => void;
  label: string;
  invalid?: boolean;
  disabled?: boolean;
}) {
  const { type, value, onChange } = props;
  const [text, setText] = useState(valueFormat(value, type));
  const [problem, setProblem] = useState("");
  useEffect(() => {
    setText(valueFormat(value, type));
    setProblem("");
  }, [value, type]);

  const commit = (t: string) => {
    if (t === valueFormat(value, type)) return setProblem("");
    if (t === "" && type !== "str") {
      setProblem("");
      return onChange(undefined);
    }
    if (t === "" && type === "str" && value === undefined) return;
    const parsed = valueParse(t, type);
    if (!parsed.ok) return setProblem(parsed.reason);
    setProblem("");
    onChange(parsed.value);
  };

  const cls = `input${props.invalid || problem ? " invalid" : ""}`;
  if (type === "bool") {
    return (
      <select className={cls} aria-label={props.label} disabled={props.disabled} value={value === undefined ? "" : String(value)}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value === "true")}>
        <option value="">{props.placeholder ? `— ${props.placeholder}` : "—"}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  const multiline = type === "list" || type === "dict";
  const common = {
    className: cls,
    "aria-label": props.label,
    disabled: props.disabled,
    value: text,
    placeholder: props.placeholder,
    onChange: (e: { target: { value: string } }) => setText(e.target.value),
    onBlur: () => commit(text),
  };
  return (
    <>
      {multiline ? (
        <textarea {...common} rows={text.length > 40 ? 3 : 1} spellCheck={false}
          onKeyDown={(e) => e.key === "Enter" && (e.metaKey || e.ctrlKey) && commit(text)} />
      ) : (
        <input {...common} inputMode={type === "int" || type === "float" ? "decimal" : undefined}
          onKeyDown={(e) => e.key === "Enter" && commit(text)} />
      )}
      {problem && <div className="field-error">{problem}</div>}
    </>
  );
}
