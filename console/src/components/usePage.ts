// What every page does when it opens: names the document after itself and, when it was reached
// by a link (not at the first load), moves keyboard and screen-reader focus to its heading.
import { useEffect } from 'preact/hooks';
import { t } from '../i18n';

let firstPage = true;

export function usePage(title: string | null) {
  useEffect(() => {
    if (title === null) return;
    const centre = t('centre.name');
    document.title = title === centre ? centre : `${title} · ${centre}`;
  }, [title]);
  useEffect(() => {
    if (firstPage) {
      firstPage = false;
      return;
    }
    window.scrollTo(0, 0);
    const h1 = document.querySelector<HTMLElement>('main h1');
    if (h1) {
      h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
    }
  }, []);
}
