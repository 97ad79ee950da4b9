// What every page does when it opens: names the document after itself and, when it was reached
// by a link (not at the first load), moves keyboard and screen-reader focus to its heading.
import { useEffect } from 'preact/hooks';
import { useCentreName } from './centre';

let firstPage = true;

// The home page's title is the centre's name alone.
export function usePage(title: string | null) {
  const centre = useCentreName();
  useEffect(() => {
    if (title === null) return;
    document.title = title === centre ? centre : `${title} · ${centre}`;
  }, [title, centre]);
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
