Feature: Stock report
  In order to know what my shelves are worth
  As a store owner
  I want a report of stock, returns and write-offs per product

  Background:
    Given the store sells these products:
      | sku      | name    | colour | size | price | stock |
      | SWT-BK-M | sweater | black  | M    | 40.00 | 3     |
      | HAT-GR   | hat     | grey   |      | 15.00 | 6     |
    And a customer previously bought these items from me:
      | sku      | quantity |
      | SWT-BK-M | 2        |
      | HAT-GR   | 1        |

  @api
  Scenario: The report counts returns and write-offs
    Given she returned one SWT-BK-M for a refund
    And she returned the HAT-GR for a refund, saying it is damaged
    When I run the stock report
    Then the stock report should show:
      | sku      | stock | sold | returned | written off | stock value |
      | SWT-BK-M | 4     | 2    | 1        | 0           | £160.00     |
      | HAT-GR   | 6     | 1    | 1        | 1           | £90.00      |
    And the report's total stock value should be £250.00

  @browser
  Scenario: The report page waits for the warehouse figures
    When I open the stock report page
    Then the stock report should show:
      | sku      | stock | sold | returned | written off | stock value |
      | SWT-BK-M | 3     | 2    | 0        | 0           | £120.00     |
      | HAT-GR   | 6     | 1    | 0        | 0           | £90.00      |
    And the report's total stock value should be £210.00

  @browser
  Scenario: A return made at the till shows up in the report
    When she returns the SWT-BK-M for a refund
    And I open the stock report page
    Then the stock report should show:
      | sku      | stock | sold | returned | written off | stock value |
      | SWT-BK-M | 4     | 2    | 1        | 0           | £160.00     |
    And the report's total stock value should be £250.00
