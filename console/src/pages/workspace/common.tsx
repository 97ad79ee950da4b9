// Pieces the workspace's pages share: the end of a paged list (its failure in plain words, "show
// more", or that it is empty).
import { Loading } from '../../components/loading';
import { ProblemNotice } from '../../components/problem';
import { t, type Key } from '../../i18n';
import type { PagedList } from '../../components/usePaged';

export function ListEnd<T>({
  list,
  empty,
  more,
}: {
  list: PagedList<T>;
  empty: Key;
  more: Key;
}) {
  return (
    <>
      {list.error ? (
        <ProblemNotice error={list.error} retry={list.retry} />
      ) : null}
      {!list.loaded && !list.error ? <Loading text="ws.loading" /> : null}
      {list.loaded && list.items.length === 0 && !list.more ? <p>{t(empty)}</p> : null}
      {list.loaded && list.more && !list.error ? (
        <p>
          <button type="button" class="button-secondary" disabled={list.loading} onClick={list.loadMore}>
            {list.loading ? t('ws.loading') : t(more)}
          </button>
        </p>
      ) : null}
    </>
  );
}
