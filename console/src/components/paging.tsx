import { LeftOutlined, RightOutlined } from '@ant-design/icons';
import { Button, Space, Typography } from 'antd';
import { useCallback, useState } from 'react';
import { useT } from '../i18n/index.js';

/** Cursor paging of a server-paged list: the cursors of the pages behind, to go back. */
export function useCursorPages() {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  const cursor = stack[stack.length - 1];
  const next = useCallback((c: string) => setStack((s) => [...s, c]), []);
  const prev = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const reset = useCallback(() => setStack([undefined]), []);
  return { cursor, page: stack.length, next, prev, reset };
}

export function Pager({
  page,
  nextCursor,
  onNext,
  onPrev,
  loading,
  extra,
}: {
  page: number;
  nextCursor: string | null | undefined;
  onNext: (cursor: string) => void;
  onPrev: () => void;
  loading?: boolean;
  extra?: string;
}) {
  const t = useT();
  return (
    <Space style={{ marginTop: 16, justifyContent: 'flex-end', width: '100%' }} wrap>
      {extra && <Typography.Text type="secondary">{extra}</Typography.Text>}
      <Button icon={<LeftOutlined />} disabled={page <= 1 || loading} onClick={onPrev}>
        {t('paging.prev')}
      </Button>
      <Typography.Text aria-live="polite">{t('paging.page', { page })}</Typography.Text>
      <Button disabled={!nextCursor || loading} onClick={() => nextCursor && onNext(nextCursor)}>
        {t('paging.next')} <RightOutlined />
      </Button>
    </Space>
  );
}
