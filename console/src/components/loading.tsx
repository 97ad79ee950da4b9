// That something is on its way, said to screen readers too.
import { t, type Key } from '../i18n';

export function Loading({ text }: { text: Key }) {
  return (
    <p class="muted" role="status">
      {t(text)}
    </p>
  );
}
