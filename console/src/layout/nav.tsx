import {
  AuditOutlined,
  CarOutlined,
  CheckSquareOutlined,
  FileSearchOutlined,
  SettingOutlined,
} from '@ant-design/icons';
import type { OfficialAccount } from '@ridetrace/shared';
import type { ReactNode } from 'react';
import type { MessageKey } from '../i18n/index.js';

export interface NavItem {
  path: string;
  label: MessageKey;
  icon: ReactNode;
  /** Shown when the official holds any of these scopes. */
  scopes: OfficialAccount['scopes'];
}

export const NAV: readonly NavItem[] = [
  { path: '/cases', label: 'nav.cases', icon: <FileSearchOutlined />, scopes: ['trace:read', 'case:write'] },
  { path: '/approvals', label: 'nav.approvals', icon: <CheckSquareOutlined />, scopes: ['reveal:approve'] },
  { path: '/audit', label: 'nav.audit', icon: <AuditOutlined />, scopes: ['audit:read'] },
  // The carriers of the official's operator (fleet managers), or of every operator (administrators).
  { path: '/operators', label: 'nav.carriers', icon: <CarOutlined />, scopes: ['carriers:write', 'admin'] },
  { path: '/admin', label: 'nav.admin', icon: <SettingOutlined />, scopes: ['officials:admin', 'admin'] },
];

export const navFor = (official: OfficialAccount): NavItem[] =>
  NAV.filter((item) => item.scopes.some((s) => official.scopes.includes(s)));
