import { usePage } from '../components/usePage';
import { t } from '../i18n';

export function NotFound() {
  usePage(t('notfound.title'));
  return (
    <>
      <h1>{t('notfound.title')}</h1>
      <p>{t('notfound.text')}</p>
      <p>
        <a href="/">{t('notfound.home')}</a>
      </p>
    </>
  );
}
