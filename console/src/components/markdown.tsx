// A dataset's datasheet, written in Markdown by its owners, shown safely: micromark escapes any
// HTML in the text and drops links to dangerous protocols (javascript:, data:, ...) by default;
// neither allowDangerousHtml nor allowDangerousProtocol is turned on here.
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { useMemo } from 'preact/hooks';

export function renderMarkdown(source: string): string {
  return micromark(source, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
}

export function Markdown({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
