export default definePageConfig({ navigationBarTitleText: '乘车登记' });
