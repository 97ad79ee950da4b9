// A dataset's datasheet, written in Markdown by its owners, shown safely: micromark escapes any
// HTML in the text and drops links to dangerous protocols (javascript:, data:, ...) by default;
// neither allowDangerousHtml nor allowDangerousProtocol is turned on here. The datasheet sits
// under the page's own h1 and h2, so its headings move two levels down (# becomes h3).
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { useMemo } from 'preact/hooks';

export function renderMarkdown(source: string): string {
  const html = micromark(source, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
  // Only micromark's own heading tags match: HTML in the source was escaped to &lt;h1&gt;.
  return html.replace(/<(\/?)h([1-6])>/g, (_, close: string, level: string) => {
    return `<${close}h${Math.min(6, Number(level) + 2)}>`;
  });
}

export function Markdown({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
