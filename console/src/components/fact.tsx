// One fact of a <dl class="facts">: its name and its value.
import type { ComponentChildren } from 'preact';
import { t, type Key } from '../i18n';

export function Fact({ label, mono, children }: { label: Key; mono?: boolean; children: ComponentChildren }) {
  return (
    <div>
      <dt>{t(label)}</dt>
      <dd class={mono ? 'mono' : undefined}>{children}</dd>
    </div>
  );
}
